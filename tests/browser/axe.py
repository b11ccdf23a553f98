"""axe-core in the browser tests: the engine is vendored (tests/browser/vendor/axe-core, its
npm package's axe.min.js and licence) so CI runs it offline, from the repository alone."""

from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


def with_axe(context) -> None:
    """Load axe into every page of this context (an init script: the page's CSP does not apply)."""
    context.add_init_script(path=str(AXE))


def violations(page) -> list[dict]:
    """axe's violations on the page as it is now."""
    return page.evaluate(RUN)

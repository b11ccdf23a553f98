"""Reading the repository's Markdown in tests: its links, and the queries of docs/proofs.md."""

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
PROOFS = ROOT / "docs" / "proofs.md"

_FENCE = re.compile(r"^[ \t]*```.*?^[ \t]*```[^\n]*$", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?", re.M)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
_SQL_BLOCK = re.compile(r"^```sql\n(.*?)^```$", re.S | re.M)
_QUERY_HEAD = re.compile(r"^-- (I\d+) \[(doctor|doctor --full)\] (.+)$")


def markdown_files() -> list[Path]:
    """The README and every document under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def link_targets(text: str) -> list[str]:
    """Every link target of the prose (inline and reference links; code is not prose)."""
    prose = _INLINE_CODE.sub("", _FENCE.sub("", text))
    return _INLINE_LINK.findall(prose) + _REFERENCE.findall(prose)


def link_problems(doc: Path, text: str, root: Path = ROOT) -> list[str]:
    """The relative links of `doc` that point outside `root` or at nothing."""
    problems = []
    for target in link_targets(text):
        if _SCHEME.match(target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        path = unquote(target.split("#", 1)[0].split("?", 1)[0])
        resolved = (doc.parent / path).resolve()
        if not resolved.is_relative_to(root):
            problems.append(f"{doc.name}: {target} points outside the repository")
        elif not resolved.exists():
            problems.append(f"{doc.name}: {target} does not exist")
    return problems


@dataclass(frozen=True)
class Query:
    invariant: str
    when: str  # the command that runs it: doctor or doctor --full
    claim: str
    sql: str  # as pasted into psql, semicolon included


def proof_queries(text: str | None = None) -> list[Query]:
    """The queries of docs/proofs.md, in order, each with the comment line above it."""
    found: list[Query] = []
    head, lines = None, []
    for block in _SQL_BLOCK.findall(PROOFS.read_text() if text is None else text):
        for line in block.splitlines():
            match = _QUERY_HEAD.match(line)
            if match:
                if head:
                    found.append(Query(*head, "\n".join(lines)))
                head, lines = match.groups(), []
            else:
                lines.append(line)
        if head:
            found.append(Query(*head, "\n".join(lines)))
        head, lines = None, []
    return found

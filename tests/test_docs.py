"""The documents stay true: links resolve inside the repository, docs/proofs.md is what the
doctor's checks render, and every constraint a document names exists in the migrated schema."""

import re
import shutil
import subprocess

import sqlalchemy as sa

from pawline.db import db
from pawline.doctor import checks
from pawline.proofs import REGENERATE, render_markdown, render_sql
from tests.markdown import (
    PROOFS,
    ROOT,
    link_problems,
    link_targets,
    markdown_files,
    proof_queries,
)

OUTSIDE = "/".join(["..", "shared"])  # spelled apart so this file does not mention it either
BIND_PARAMETER = re.compile(r"(?<![:\w]):\w|%\(|%s|\$\d|\?")


def test_docs_proofs_md_is_what_the_checks_render():
    assert PROOFS.read_text() == render_markdown(), (
        f"docs/proofs.md differs from pawline/doctor.py's checks: run `{REGENERATE}`")


def test_docs_proofs_md_holds_every_check_once_as_sql_to_paste():
    expected = [(c.invariant, c.claim, c.sql + ";") for c in checks()]

    found = proof_queries()

    assert [(q.invariant, q.claim, q.sql) for q in found] == expected
    assert {q.invariant for q in found} == {f"I{n}" for n in range(1, 16)}
    for query in found:
        assert query.sql.count(";") == 1 and query.sql.endswith(";"), query.claim
        assert not BIND_PARAMETER.search(query.sql), query.claim


def test_each_query_is_marked_with_the_command_that_runs_it():
    marks = {(q.claim, q.when) for q in proof_queries()}

    assert marks == {(c.claim, "doctor --full" if c.reads_every_row else "doctor")
                     for c in checks()}


def test_doctor_sql_prints_the_same_queries_as_the_document(runner):
    result = runner.invoke(args=["doctor", "--sql"])

    assert result.exit_code == 0, result.output
    assert result.output == render_sql()
    for query in proof_queries():
        assert f"-- {query.invariant} [{query.when}] {query.claim}\n{query.sql}\n" in (
            result.output + "\n")


def test_every_relative_link_resolves_inside_the_repository():
    problems = [p for doc in markdown_files() for p in link_problems(doc, doc.read_text())]

    assert problems == []


def test_the_link_check_catches_escaping_and_missing_targets():
    text = ("[up](../outside.md) [gone](docs/missing.md) [ok](README.md#set-up) "
            "[web](https://example.com) [here](#top)\n\n```\n[in code](../ignored.md)\n```\n"
            "`[inline](../ignored-too.md)`\n[ref]: docs/nope.md\n")

    problems = link_problems(ROOT / "README.md", text)

    assert problems == ["README.md: ../outside.md points outside the repository",
                        "README.md: docs/missing.md does not exist",
                        "README.md: docs/nope.md does not exist"]


def test_the_readme_links_every_document():
    targets = {t.split("#", 1)[0] for t in link_targets((ROOT / "README.md").read_text())}

    assert {f"docs/{doc.name}" for doc in (ROOT / "docs").glob("*.md")} <= targets


def _repository_files() -> list:
    git = shutil.which("git")
    if git and (ROOT / ".git").exists():
        listed = subprocess.run(
            [git, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT, capture_output=True, check=True).stdout.decode()
        return [ROOT / name for name in listed.split("\0") if name]
    skip = {"__pycache__", "instance"}
    return [p for p in ROOT.rglob("*") if p.is_file() and not any(
        part.startswith(".") or part in skip for part in p.relative_to(ROOT).parts)]


def test_no_file_of_the_repository_mentions_a_folder_outside_it():
    files = [p for p in _repository_files() if p.is_file()]

    mentioning = [str(p.relative_to(ROOT)) for p in files if OUTSIDE.encode() in p.read_bytes()]

    assert files, "found no files to read"
    assert mentioning == []


NAMED = re.compile(r"`((?:uq|fk|ck|ix|pk)_[a-z0-9_]+"
                   r"|(?:audit_event|booking|message|consent_event|phone_consent)_[a-z_]+)(?:\(\))?`")


def test_every_constraint_the_documents_name_exists(ctx):
    named = {name for doc in (ROOT / "docs" / "design.md", ROOT / "docs" / "scaling.md", PROOFS)
             for name in NAMED.findall(doc.read_text())}
    existing = set(db.session.scalars(sa.text(
        "SELECT conname FROM pg_constraint UNION SELECT relname FROM pg_class "
        "UNION SELECT tgname FROM pg_trigger UNION SELECT proname FROM pg_proc")))

    assert named, "the documents name no constraint"
    assert sorted(named - existing) == []

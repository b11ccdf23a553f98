"""docs/proofs.md and `doctor --sql` are what the doctor's checks render, as SQL to paste."""

import re

from pawline.doctor import checks
from pawline.proofs import REGENERATE, render_markdown, render_sql
from tests.markdown import PROOFS, proof_queries

BIND_PARAMETER = re.compile(r"(?<![:\w]):\w|%\(|%s|\$\d|\?")


def test_docs_proofs_md_is_what_the_checks_render():
    assert PROOFS.read_text() == render_markdown(), (
        f"docs/proofs.md differs from pawline/doctor.py's checks: run `{REGENERATE}`")


def test_docs_proofs_md_holds_every_check_once_as_sql_to_paste():
    expected = [(c.invariant, c.claim, c.sql + ";") for c in checks()]

    found = proof_queries()

    assert [(q.invariant, q.claim, q.sql) for q in found] == expected
    assert {q.invariant for q in found} == {f"I{n}" for n in range(1, 10)}
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

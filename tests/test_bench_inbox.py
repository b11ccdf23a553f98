"""The inbox-at-scale benchmark's harness, tiny, so it cannot rot: it checks data, never speed."""

import pytest

from bench import inbox_scale
from tests.conftest import direct_only

pytestmark = [pytest.mark.concurrency, direct_only]


def test_a_tiny_inbox_run_builds_both_organizations_and_times_every_path(server_url):
    server = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    result = inbox_scale.run(server, inbox_scale.TINY, repeats=2)  # every page answered 200

    for label, size in inbox_scale.TINY.items():
        built = result["sizes"][label]
        assert built["threads"] == size.threads
        assert built["messages"] == (size.threads - 1) * size.per_thread + size.hot_messages
    rows = {r["benchmark"]: r for r in result["rows"]}
    assert list(rows) == ["inbox first page", "inbox page at 90% depth (keyset)",
                          "search by phone", "search by name", "thread of 10,000 messages",
                          "send path (routing, stored, up to the provider)",
                          "doctor (catalog checks, the default)", inbox_scale.FULL_DOCTOR]
    assert all(r["small_ms"] > 0 and r["large_ms"] > 0 for r in rows.values())
    assert "ix_thread_inbox" in rows["inbox first page"]["plan"]  # EXPLAIN read its statements
    assert "uq_client_contact_org_id_e164" in rows["search by phone"]["plan"]

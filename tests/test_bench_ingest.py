"""The ingestion benchmark's harness, tiny, so it cannot rot: it checks counts, never speed."""

import pytest

from bench import ingest
from tests.conftest import direct_only

pytestmark = [pytest.mark.concurrency, direct_only]


def test_a_tiny_ingestion_run_stores_every_message_exactly_once(server_url):
    server = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    result = ingest.run(server, messages=200, phones=40, retries=20, concurrency=8, rounds=1,
                        workers=2, threads=4, memory_requests=100)
    assert result["exact"], result["checks"]
    assert result["statuses"] == {200: 220}
    assert result["checks"][0]["doctor_ok"]
    assert result["seeds_way"]["clients"] >= 40  # it ran; its duplicates depend on timing
    assert len(result["memory"]["samples_kib"]) == 10
    assert result["app_rate"] > 0 and result["ceiling_rate"] > 0

"""Liveness, readiness and metrics: what the platform asks of the app (blueprints/ops.py)."""

import pytest
import sqlalchemy as sa

from pawline.config import ConfigError, from_environment
from pawline.db import db
from tests.conftest import make_app

TOKEN = "m" * 40
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:9/nothing"  # nothing listens on port 9


def test_healthz_answers_without_a_session_or_a_query(client, statements):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert statements == []


def test_healthz_answers_while_the_database_is_away():
    response = make_app(UNREACHABLE).test_client().get("/healthz")
    assert response.status_code == 200


def test_readyz_is_ready_at_the_migrations_head(client):
    response = client.get("/readyz")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ready"
    with client.application.app_context():
        assert body["migration"] == db.session.scalar(
            sa.text("SELECT version_num FROM alembic_version"))
    assert "Set-Cookie" not in response.headers


def test_readyz_refuses_a_database_at_another_migration(client):
    with client.application.app_context():
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = 'an0ther0ne'"))
        db.session.commit()  # the test's own transaction, rolled back after

    response = client.get("/readyz")

    assert response.status_code == 503
    assert "at migration an0ther0ne" in response.get_json()["reason"]
    assert "db upgrade" in response.get_json()["reason"]


def test_readyz_refuses_a_database_that_was_never_migrated(make_database):
    app = make_app(make_database())
    response = app.test_client().get("/readyz")
    with app.app_context():
        db.engine.dispose()

    assert response.status_code == 503
    assert "no migration" in response.get_json()["reason"]


def test_readyz_refuses_while_the_database_is_away():
    response = make_app(UNREACHABLE).test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["reason"].startswith("database unreachable (OperationalError")


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-wrong-token", TOKEN,
                                           f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_are_a_404_without_the_token(database_url, authorization):
    client = make_app(database_url, METRICS_TOKEN=TOKEN).test_client()
    headers = {"Authorization": authorization} if authorization else {}

    response = client.get("/metrics", headers=headers)

    assert response.status_code == 404
    assert b"pawline_" not in response.data


def test_metrics_are_a_404_to_everyone_while_no_token_is_set(client):
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_count_requests_and_read_the_queue(database_url):
    client = make_app(database_url, METRICS_TOKEN=TOKEN).test_client()
    before = _sample(client, 'pawline_http_requests_total{endpoint="auth.sign_in",'
                             'method="GET",status="200"}')
    for _ in range(3):
        client.get("/sign-in")
    client.get("/no-such-page")

    text = _scrape(client)

    assert _value(text, 'pawline_http_requests_total{endpoint="auth.sign_in",method="GET",'
                        'status="200"}') == before + 3
    assert _value(text, 'pawline_http_requests_total{endpoint="unmatched",method="GET",'
                        'status="404"}') >= 1
    assert 'pawline_http_request_duration_seconds_bucket{endpoint="auth.sign_in"' in text
    assert _value(text, "pawline_queue_up") == 1
    for name in ("waiting_jobs", "scheduled_jobs", "running_jobs", "stalled_jobs", "failed_jobs",
                 "workers", "oldest_wait_seconds"):
        assert f"\npawline_queue_{name} " in text, name


def test_metrics_say_the_queue_is_down_when_the_database_is(database_url):
    client = make_app(UNREACHABLE, METRICS_TOKEN=TOKEN).test_client()
    text = _scrape(client)
    assert _value(text, "pawline_queue_up") == 0
    assert "pawline_queue_waiting_jobs" not in text


@pytest.mark.parametrize("token", ["short", "x" * 15, "has a space in it....", "é" * 20])
def test_a_metrics_token_too_short_or_odd_is_refused_at_start(tmp_path, token):
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        from_environment(tmp_path, env={"METRICS_TOKEN": token})


def test_a_missing_multiprocess_folder_is_refused_at_start(tmp_path):
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        from_environment(tmp_path, env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "nope")})
    assert from_environment(tmp_path, env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})[
        "PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)


def _scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.get_data(as_text=True)


def _sample(client, name: str) -> float:
    return _value(_scrape(client), name, missing=0.0)


def _value(text: str, name: str, missing=None) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    if missing is None:
        raise AssertionError(f"{name} not in:\n{text}")
    return missing

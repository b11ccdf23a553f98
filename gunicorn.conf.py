"""gunicorn reads ./gunicorn.conf.py in its master before it starts a worker: Paw-line's settings
are checked here once, so a bad one stops gunicorn with one line, where each worker would print
it (and gunicorn can trip over several workers failing at once)."""

from app import check_settings

check_settings()

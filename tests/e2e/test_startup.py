"""What daphne does at start-up with a deployment step missing."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import pytest

from tests.processes import DaphneServer


def test_daphne_refuses_to_start_without_collected_static_files(tmp_path):
    """With debug off, pages need the manifest `collectstatic` writes: without it every page would be a 500."""
    empty_static_root = tmp_path / "static"
    empty_static_root.mkdir()
    server = DaphneServer(
        env={
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DJANGO_STATIC_ROOT": str(empty_static_root),
        }
    )
    # The log is kept per port across runs: start from an empty one.
    (Path(tempfile.gettempdir()) / f"asgi-blog-daphne-{server.port}.log").unlink(missing_ok=True)
    try:
        with pytest.raises(AssertionError, match="daphne exited during start-up"):
            server.start()
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "ImproperlyConfigured: Static files are not collected in" in log
    assert "run `manage.py collectstatic --noinput`" in log

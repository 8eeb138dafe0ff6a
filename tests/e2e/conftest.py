"""A real daphne process on a free loopback port, with its own database."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "asgi-blog-demo"
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class DaphneServer:
    base_url: str
    env: dict[str, str]
    process: subprocess.Popen | None = None

    @property
    def origin(self) -> str:
        return self.base_url

    def ws_url(self, path: str) -> str:
        return "ws" + self.base_url.removeprefix("http") + path

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self) -> None:
        port = int(urlsplit(self.base_url).port)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "--websocket-max-message-size",
                "65536",
                "asgi_blog.asgi:application",
            ],  # fmt: skip
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "daphne exited during start-up"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("daphne did not start listening in time")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def server_database(tmp_path_factory) -> Iterator[str]:
    """A throwaway database for the server: SQLite by default, PostgreSQL when DATABASE_URL says so."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'db.sqlite3'}"
        return
    import psycopg

    name = f"asgi_blog_e2e_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(configured, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(configured)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(configured, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def daphne_server(server_database) -> Iterator[DaphneServer]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "asgi_blog.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": server_database,
    }
    server = DaphneServer(base_url=f"http://127.0.0.1:{free_port()}", env=env)
    server.manage("migrate", "--noinput")
    server.manage("seed_demo")
    server.start()
    yield server
    server.stop()


async def logged_in_session(server: DaphneServer, username: str) -> aiohttp.ClientSession:
    """Log in through the real login page, as a browser would, keeping the session cookie."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(f"{server.base_url}/accounts/login/") as page:
        assert page.status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', await page.text()).group(1)
    form = {"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
    async with session.post(f"{server.base_url}/accounts/login/", data=form, allow_redirects=False) as response:
        assert response.status == 302, "login failed"
    return session


def csrf_token(session: aiohttp.ClientSession) -> str:
    return next(cookie.value for cookie in session.cookie_jar if cookie.key == "csrftoken")

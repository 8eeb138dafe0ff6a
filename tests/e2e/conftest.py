"""Real daphne (and Redis) processes on free loopback ports, with a database of their own.

Every process a test starts here is stopped by its own pid when the test or
module ends; nothing else on the machine is touched.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "asgi-blog-demo"
STARTUP_SECONDS = 30
MAX_MESSAGE_BYTES = 65536


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{what} exited during start-up"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start listening in time")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass
class DaphneServer:
    env: dict[str, str]
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return self.base_url

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

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

    def start(self) -> DaphneServer:
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        command += ["--websocket-max-message-size", str(MAX_MESSAGE_BYTES), *self.extra_args]
        # The server's log, for reading when a test fails.
        self.log_path = Path(tempfile.gettempdir()) / f"asgi-blog-daphne-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "asgi_blog.asgi:application"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, self.process, "daphne")
        return self

    def stop(self) -> None:
        stop(self.process)


@pytest.fixture(scope="module")
def server_database(tmp_path_factory) -> Iterator[str]:
    """A throwaway database for the servers: SQLite by default, PostgreSQL when DATABASE_URL says so."""
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
def server_env(server_database, tmp_path_factory) -> dict[str, str]:
    """What every server of this module shares: settings, secret key, collected static files
    and a migrated, seeded database: the steps of a production deployment."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "asgi_blog.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": server_database,
        "DJANGO_STATIC_ROOT": str(tmp_path_factory.mktemp("static")),
    }
    seeding = DaphneServer(env=env)
    seeding.manage("collectstatic", "--noinput")
    seeding.manage("migrate", "--noinput")
    seeding.manage("seed_demo")
    return env


def create_account(server_env: dict[str, str], username: str) -> str:
    """An extra account in the servers' database, for tests that lock or log out a user for good."""
    script = (
        "from blog.models import User; "
        f"User.objects.filter(username={username!r}).exists() or "
        f"User.objects.create_user({username!r}, password={DEMO_PASSWORD!r})"
    )
    DaphneServer(env=server_env).manage("shell", "--no-imports", "-c", script)
    return username


@pytest.fixture(scope="module")
def daphne_server(server_env) -> Iterator[DaphneServer]:
    """One long-lived server for the tests that need nothing special."""
    server = DaphneServer(env=server_env).start()
    yield server
    server.stop()


@pytest.fixture
def start_daphne(server_env) -> Iterator[Callable[..., DaphneServer]]:
    """Start servers with extra environment or daphne flags; stopped when the test ends."""
    started: list[DaphneServer] = []

    def start(*, extra_args: list[str] | None = None, **env: str) -> DaphneServer:
        server = DaphneServer(env={**server_env, **env}, extra_args=extra_args or [])
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@dataclass
class RedisServer:
    """A Redis server of the test's own, on a free port; it can be stopped and started again there."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail("redis-server is not installed; the multi-process tests need it")
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process, "redis-server")
        return self

    def stop(self) -> None:
        stop(self.process)


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory) -> Iterator[str]:
    """The URL of a Redis server that this module's tests share."""
    server = RedisServer(workdir=tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    """A Redis server for one test, which may stop and restart it."""
    server = RedisServer(workdir=tmp_path).start()
    yield server
    server.stop()


async def logged_in_session(server: DaphneServer, username: str, **headers: str) -> aiohttp.ClientSession:
    """Log in through the real login page, as a browser would, keeping the session cookie."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)
    async with session.get(f"{server.base_url}/accounts/login/") as page:
        assert page.status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', await page.text()).group(1)
    form = {"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
    async with session.post(f"{server.base_url}/accounts/login/", data=form, allow_redirects=False) as response:
        assert response.status == 302, "login failed"
    return session


def csrf_token(session: aiohttp.ClientSession) -> str:
    return next(cookie.value for cookie in session.cookie_jar if cookie.key == "csrftoken")


async def first_published_post_id(server: DaphneServer, headers: dict[str, str] | None = None) -> int:
    async with aiohttp.ClientSession(headers=headers) as session, session.get(f"{server.base_url}/blog/") as page:
        html = await page.text()
    return int(re.search(r'href="/blog/posts/(\d+)/"', html).group(1))


async def receive(ws: aiohttp.ClientWebSocketResponse, within: float = 5) -> dict:
    """The next frame that is not a presence update (those come on their own clock)."""
    while (frame := await ws.receive_json(timeout=within))["type"] == "presence":
        pass
    return frame

"""Real daphne (and Redis) processes on free loopback ports, with a database of their own.

Every process a test starts here is stopped by its own pid when the test or
module ends; nothing else on the machine is touched.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest

from tests.processes import (  # noqa: F401 - re-exported for the test modules
    DEMO_PASSWORD,
    DaphneServer,
    RedisServer,
    csrf_token,
    logged_in_session,
)


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


async def first_published_post_id(server: DaphneServer, headers: dict[str, str] | None = None) -> int:
    async with aiohttp.ClientSession(headers=headers) as session, session.get(f"{server.base_url}/blog/") as page:
        html = await page.text()
    return int(re.search(r'href="/blog/posts/(\d+)/"', html).group(1))


async def receive(ws: aiohttp.ClientWebSocketResponse, within: float = 5) -> dict:
    """The next frame that is not a presence update (those come on their own clock)."""
    while (frame := await ws.receive_json(timeout=within))["type"] == "presence":
        pass
    return frame

"""Real daphne (and Redis) processes on free loopback ports, with a database of their own.

Every process a test starts here is stopped by its own pid when the test or
module ends; nothing else on the machine is touched.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
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


def base_env(database_url: str, static_root: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "asgi_blog.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "DJANGO_STATIC_ROOT": static_root,
    }


def configured_postgres() -> str | None:
    configured = os.environ.get("DATABASE_URL", "")
    return configured if configured.startswith(("postgres://", "postgresql://")) else None


def postgres_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(configured_postgres(), autocommit=True) as admin:
        admin.execute(statement)


def postgres_url(name: str) -> str:
    return urlunsplit(urlsplit(configured_postgres())._replace(path=f"/{name}"))


def migrate_and_seed(database_url: str, static_root: str) -> None:
    # The demo's reply queues its notification email; a day away, it never falls due during a run,
    # so no worker sends it and /healthz never finds it late.
    env = {**base_env(database_url, static_root), "BLOG_NOTIFICATION_EMAIL_DELAY_SECONDS": str(24 * 60 * 60)}
    seeding = DaphneServer(env=env)
    seeding.manage("migrate", "--noinput")
    seeding.manage("seed_demo")


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> str:
    """`collectstatic` once for every server of the run: the files only change with the code."""
    static_root = str(tmp_path_factory.mktemp("static"))
    DaphneServer(env=base_env("sqlite://:memory:", static_root)).manage("collectstatic", "--noinput")
    return static_root


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory, collected_static) -> Iterator[str]:
    """A database migrated and seeded once per run; each module's servers get a copy of it."""
    if configured_postgres() is None:
        template = tmp_path_factory.mktemp("template") / "db.sqlite3"
        url = f"sqlite:///{template}"
    else:
        template = f"asgi_blog_e2e_template_{os.getpid()}_{secrets.token_hex(4)}"
        postgres_admin(f'CREATE DATABASE "{template}"')
        url = postgres_url(template)
    migrate_and_seed(url, collected_static)
    yield str(template)
    if configured_postgres() is not None:
        postgres_admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


@pytest.fixture(scope="module")
def server_database(tmp_path_factory, seeded_template) -> Iterator[str]:
    """A throwaway copy of the seeded database for this module's servers: SQLite by default,
    PostgreSQL when DATABASE_URL says so."""
    if configured_postgres() is None:
        copy = tmp_path_factory.mktemp("e2e") / "db.sqlite3"
        # The backup API, not a file copy: it includes what is still in the write-ahead log.
        with sqlite3.connect(seeded_template) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        yield f"sqlite:///{copy}"
        return
    name = f"asgi_blog_e2e_{os.getpid()}_{secrets.token_hex(4)}"
    postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{seeded_template}"')
    try:
        yield postgres_url(name)
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def server_env(server_database, collected_static) -> dict[str, str]:
    """What every server of this module shares: settings, a secret key of its own, collected
    static files and a migrated, seeded database: the steps of a production deployment."""
    return base_env(server_database, collected_static)


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

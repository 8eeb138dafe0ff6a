"""/healthz against parts that are really down: a database nobody listens for, a Redis that never answers."""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Iterator

import aiohttp
import pytest

from tests.processes import DaphneServer, free_port

pytestmark = pytest.mark.django_db(transaction=True)

# Each check gives up after 2 s (blog/health.py); the rest is margin for a loaded machine.
ANSWER_WITHIN_SECONDS = 6


async def test_healthz_reports_both_parts_up(async_client):
    response = await async_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "channel_layer": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A Redis URL whose port takes connections (the kernel completes them) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


async def test_healthz_names_a_channel_layer_that_hangs_within_its_timeout(async_client, settings, silent_redis):
    # The production layer configuration (asgi_blog/settings.py), on a Redis that hangs.
    host = {"address": silent_redis, "socket_timeout": settings.REDIS_LAYER_READ_TIMEOUT_SECONDS}
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [host]}}
    }
    started = time.monotonic()
    response = await async_client.get("/healthz")
    assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "channel_layer": "down"}


async def test_healthz_names_a_database_that_is_unreachable(tmp_path):
    """A real server whose DATABASE_URL names a port nobody listens on."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="asgi_blog.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/asgi_blog",
        DJANGO_STATIC_ROOT=str(tmp_path),
    )
    server = DaphneServer(env=env)
    server.manage("collectstatic", "--noinput")
    server.start()
    try:
        started = time.monotonic()
        async with aiohttp.ClientSession() as session, session.get(f"{server.base_url}/healthz") as response:
            assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
            assert response.status == 503
            assert await response.json() == {"database": "down", "channel_layer": "ok"}
    finally:
        server.stop()

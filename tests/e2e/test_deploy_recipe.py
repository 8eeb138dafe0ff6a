"""The deploy recipe run, not only parsed: deploy/nginx/asgi_blog.conf in front of two daphne processes
(tests/e2e/nginx_site.py). The micro-cache has tests of its own: tests/e2e/test_deploy_cache.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import aiohttp
import pytest

from tests.e2e.conftest import first_published_post_id, receive
from tests.e2e.nginx_site import SERVER_NAME, SITE_ORIGIN, Site, browser, log_in_through_nginx, running_site
from tests.processes import TASKS_OK

# The documented limits (deploy/nginx/asgi_blog.conf, docs/deployment.md).
CONNECTIONS_PER_ADDRESS = 50


@pytest.fixture(scope="module")
def site(server_env, private_redis, tmp_path_factory) -> Iterator[Site]:
    with running_site(server_env, private_redis, tmp_path_factory.mktemp("nginx")) as running:
        yield running


async def test_healthz_answers_on_plain_http_and_everything_else_is_sent_to_https(site):
    async with aiohttp.ClientSession() as probe:
        # A probe by address: nginx names the site, or Django would refuse the host with 400.
        async with probe.get(f"http://127.0.0.1:{site.http_port}/healthz") as health:
            assert health.status == 200
            assert await health.json() == {"database": "ok", "channel_layer": "ok", **TASKS_OK}
        async with probe.get(f"http://127.0.0.1:{site.http_port}/blog/", allow_redirects=False) as page:
            assert page.status == 301
            assert page.headers["Location"] == "https://127.0.0.1/blog/"


async def test_pages_and_static_files_are_served_over_https(site):
    async with browser() as client:
        async with client.get(f"{site.https}/blog/", allow_redirects=False) as page:
            # 200, not a redirect: daphne believed nginx's X-Forwarded-Proto.
            assert page.status == 200
            assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        post_id = await first_published_post_id(site.processes[0], headers={"X-Forwarded-Proto": "https"})
        async with client.get(f"{site.https}/blog/posts/{post_id}/") as post_page:
            script = re.search(r'src="(/static/blog/live-comments\.[0-9a-f]{12}\.js)"', await post_page.text()).group(1)
        async with client.get(site.https + script) as static:
            assert static.status == 200
            # nginx's headers (expires 1y, add_header), not WhiteNoise's: nginx served the file.
            assert static.headers.getall("Cache-Control") == ["max-age=31536000", "public, immutable"]


async def test_a_comment_over_a_socket_through_nginx_reaches_readers_on_both_processes(site):
    """Each process has a reader of its own; whichever process nginx chose for the writer, one is the other."""
    post_id = await first_published_post_id(site.processes[0], headers={"X-Forwarded-Proto": "https"})
    path = f"/ws/posts/{post_id}/comments/"
    async with browser() as writer, aiohttp.ClientSession() as readers:
        await log_in_through_nginx(writer, site, "writer")
        async with (
            writer.ws_connect(site.wss(path), origin=SITE_ORIGIN) as writer_ws,
            readers.ws_connect(site.processes[0].ws_url(path), origin=site.processes[0].origin) as first,
            readers.ws_connect(site.processes[1].ws_url(path), origin=site.processes[1].origin) as second,
        ):
            assert (await receive(writer_ws))["user"] == "writer"
            await receive(first), await receive(second)
            await writer_ws.send_json({"type": "comment.create", "body": "Through nginx", "client_id": "nginx-1"})
            for reader in (first, second):
                created = await receive(reader)
                assert (created["type"], created["comment"]["body"]) == ("comment.created", "Through nginx")


@pytest.mark.parametrize("origin", ["https://evil.example", f"http://{SERVER_NAME}"], ids=["foreign", "plain-http"])
async def test_a_socket_from_another_origin_is_refused_through_nginx(site, origin):
    post_id = await first_published_post_id(site.processes[0], headers={"X-Forwarded-Proto": "https"})
    async with browser() as client:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(site.wss(f"/ws/posts/{post_id}/comments/"), origin=origin)
    assert refused.value.status == 403


async def test_nginx_limits_the_requests_of_one_address(site):
    """A few connections (far under the connection limit) asking as fast as they can soon get 429."""
    statuses: list[int] = []

    async def ask_until_refused(client: aiohttp.ClientSession) -> None:
        for _ in range(40):
            # A page Django answers cheaply (404), so the test measures nginx, not the app.
            async with client.get(f"{site.https}/no-such-page/") as response:
                statuses.append(response.status)
            if 429 in statuses:
                return

    async with browser() as client:
        await asyncio.gather(*(ask_until_refused(client) for _ in range(8)))
    assert 429 in statuses
    assert statuses[0] == 404


async def test_nginx_limits_the_connections_of_one_address(site):
    """Sockets are not rate limited but count as connections: past the limit, 429."""
    post_id = await first_published_post_id(site.processes[0], headers={"X-Forwarded-Proto": "https"})
    url = site.wss(f"/ws/posts/{post_id}/comments/")
    held = []
    async with browser() as client:
        try:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                for _ in range(CONNECTIONS_PER_ADDRESS + 5):
                    held.append(await client.ws_connect(url, origin=SITE_ORIGIN))
            assert refused.value.status == 429
            assert CONNECTIONS_PER_ADDRESS - 5 <= len(held) <= CONNECTIONS_PER_ADDRESS
        finally:
            await asyncio.gather(*(ws.close() for ws in held))

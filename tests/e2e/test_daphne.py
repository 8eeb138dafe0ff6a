"""End to end: a real daphne process, a real HTTP client logging in, its cookie on a real WebSocket."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import aiohttp
import pytest

from tests.e2e.conftest import csrf_token, first_published_post_id, logged_in_session, receive
from tests.test_static_storage import HASHED_JS, LIVE_PARTS, relative_imports


async def test_http_login_session_authenticates_the_websocket(daphne_server):
    server = daphne_server
    writer = await logged_in_session(server, "writer")
    anonymous = aiohttp.ClientSession()
    try:
        async with writer.get(f"{server.base_url}/blog/whoami/") as response:
            assert await response.text() == "You are logged in as writer."
        post_id = await first_published_post_id(server)
        path = f"/ws/posts/{post_id}/comments/"

        async with (
            writer.ws_connect(server.ws_url(path), origin=server.origin) as writer_ws,
            anonymous.ws_connect(server.ws_url(path), origin=server.origin) as reader_ws,
        ):
            hello = await receive(writer_ws)
            # The bell's count: the demo's editor answered the writer's comments (others' tests may add some).
            assert isinstance(hello.pop("unread"), int)
            assert hello == {"type": "hello", "user": "writer", "can_comment": True, "can_moderate": False}
            assert await receive(reader_ws) == {
                "type": "hello",
                "user": None,
                "can_comment": False,
                "can_moderate": False,
            }

            await writer_ws.send_json({"type": "comment.create", "body": "Over the socket", "client_id": "e2e-1"})
            writer_frames = [await receive(writer_ws), await receive(writer_ws)]
            created = await receive(reader_ws)

        assert created["type"] == "comment.created"
        assert (created["comment"]["author"], created["comment"]["body"]) == ("writer", "Over the socket")
        ack = {"type": "comment.ack", "client_id": "e2e-1", "id": created["comment"]["id"], "status": "published"}
        assert ack in writer_frames

        async with anonymous.get(
            f"{server.base_url}/blog/posts/{post_id}/comments/", params={"after": created["comment"]["id"] - 1}
        ) as response:
            listed = await response.json()
        assert [comment["body"] for comment in listed["comments"]] == ["Over the socket"]
    finally:
        await writer.close()
        await anonymous.close()


async def test_comment_posted_over_http_reaches_a_socket_reader(daphne_server):
    server = daphne_server
    writer = await logged_in_session(server, "reader")
    anonymous = aiohttp.ClientSession()
    try:
        post_id = await first_published_post_id(server)
        async with anonymous.ws_connect(
            server.ws_url(f"/ws/posts/{post_id}/comments/"), origin=server.origin
        ) as reader_ws:
            await receive(reader_ws)
            form = {"body": "Over plain HTTP", "csrfmiddlewaretoken": csrf_token(writer)}
            async with writer.post(
                f"{server.base_url}/blog/posts/{post_id}/comments/", data=form, allow_redirects=False
            ) as response:
                assert response.status == 302
                assert "#comment-" in response.headers["Location"]
            created = await receive(reader_ws)
        assert (created["comment"]["author"], created["comment"]["body"]) == ("reader", "Over plain HTTP")
    finally:
        await writer.close()
        await anonymous.close()


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "null", None, "http://127.0.0.1:9", "http://localhost:31337", "https://127.0.0.1"],
    ids=["foreign", "null", "missing", "other-port", "other-allowed-host", "other-scheme"],
)
async def test_daphne_refuses_a_foreign_origin_with_403(daphne_server, origin):
    """The site is http://127.0.0.1:<port>: another port or scheme on the same machine is another origin."""
    async with aiohttp.ClientSession() as anonymous:
        post_id = await first_published_post_id(daphne_server)
        url = daphne_server.ws_url(f"/ws/posts/{post_id}/comments/")
        headers = {} if origin is None else {"Origin": origin}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anonymous.ws_connect(url, headers=headers)
    assert refused.value.status == 403


async def test_behind_a_trusted_https_proxy_the_socket_origin_is_https(start_daphne):
    """The tests' client plays nginx on 127.0.0.1, forwarding a browser's wss:// connection."""
    server = start_daphne(BLOG_TRUSTED_PROXIES="127.0.0.1")
    post_id = await first_published_post_id(server)
    url = server.ws_url(f"/ws/posts/{post_id}/comments/")
    https_origin = f"https://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession(headers={"X-Forwarded-Proto": "https"}) as proxied:
        async with proxied.ws_connect(url, origin=https_origin) as ws:
            assert (await receive(ws))["type"] == "hello"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await proxied.ws_connect(url, origin=server.origin)
    assert refused.value.status == 403


async def test_daphne_closes_an_anonymous_socket_on_a_draft_with_4404(daphne_server):
    """After accept: a refusal before it reaches the browser as 1006, which the page's script cannot tell apart."""
    draft_id = daphne_server.manage(
        "shell",
        "--no-imports",
        "-c",
        "from blog.models import Post; print(Post.objects.filter(status='draft').first().pk)",
    ).strip()
    async with aiohttp.ClientSession() as anonymous:
        url = daphne_server.ws_url(f"/ws/posts/{draft_id}/comments/")
        async with anonymous.ws_connect(url, origin=daphne_server.origin) as ws:
            message = await ws.receive(timeout=5)
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert message.data == 4404


async def test_daphne_refuses_a_path_with_no_socket_with_403(daphne_server):
    async with aiohttp.ClientSession() as anonymous:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anonymous.ws_connect(daphne_server.ws_url("/ws/nope/"), origin=daphne_server.origin)
    assert refused.value.status == 403


async def test_anonymous_http_comment_is_sent_to_login(daphne_server):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as anonymous:
        post_id = await first_published_post_id(daphne_server)
        url = f"{daphne_server.base_url}/blog/posts/{post_id}/comments/"
        async with anonymous.get(f"{daphne_server.base_url}/accounts/login/"):
            pass  # sets the CSRF cookie
        form = {"body": "Sneaky", "csrfmiddlewaretoken": csrf_token(anonymous)}
        async with anonymous.post(url, data=form, allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"] == f"/accounts/login/?next=/blog/posts/{post_id}/"
        async with anonymous.post(url, data=form, headers={"Accept": "application/json"}) as response:
            assert response.status == 401
            assert (await response.json())["code"] == "login_required"


async def test_the_live_script_loads_its_parts_under_hashed_names(daphne_server):
    """The page's hashed script imports hashed parts, which daphne serves for a year, so no stale part is paired."""
    server = daphne_server
    post_id = await first_published_post_id(server)
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{server.base_url}/blog/posts/{post_id}/") as response:
            page = await response.text()
        assert "importmap" not in page
        script = re.search(r'<script type="module" src="([^"]*/live-comments\.[^"]+)"', page).group(1)
        reached, waiting = set(), [server.base_url + script]
        while waiting:
            url = waiting.pop()
            async with client.get(url) as module:
                assert module.status == 200
                assert module.content_type == "text/javascript"
                assert "immutable" in module.headers["Cache-Control"]
                source = await module.text()
            for name in relative_imports(source):
                assert HASHED_JS.search(name), f"{url} imports {name} by its plain name"
                part = urljoin(url, name)
                if part not in reached:
                    reached.add(part)
                    waiting.append(part)
    plain_names = {HASHED_JS.sub(".js", part.rsplit("/", 1)[1]) for part in reached}
    assert plain_names == {path.name for path in LIVE_PARTS.glob("*.js")}

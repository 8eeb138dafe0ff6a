"""Security properties checked against real daphne processes."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from tests.e2e.conftest import (
    DEMO_PASSWORD,
    create_account,
    csrf_token,
    first_published_post_id,
    logged_in_session,
    receive,
)

# The tests' client connects from 127.0.0.1, so it plays the proxy (nginx on the same machine).
HTTPS_BEHIND_PROXY = {"DJANGO_HTTPS": "1", "BLOG_TRUSTED_PROXIES": "127.0.0.1"}


def cookie_attributes(response: aiohttp.ClientResponse, name: str) -> set[str]:
    for header in response.headers.getall("Set-Cookie", []):
        if header.startswith(f"{name}="):
            return {part.strip().split("=")[0].lower() + ("=" + part.split("=")[1].lower() if "=" in part else "")
                    for part in header.split(";")[1:]}  # fmt: skip
    raise AssertionError(f"no {name} cookie set")


async def test_production_profile_sends_the_security_headers_and_secure_cookies(start_daphne):
    server = start_daphne(**HTTPS_BEHIND_PROXY)
    # As the proxy would forward a browser's HTTPS request. The cookies are Secure, so
    # a client speaking plain HTTP to daphne would not send them back: do it by hand.
    proxied = {"X-Forwarded-Proto": "https"}
    origin = f"https://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(), headers=proxied) as browser:
        async with browser.get(f"{server.base_url}/accounts/login/") as page:
            assert page.status == 200
            html = await page.text()
            headers = page.headers
            csrf_cookie = cookie_attributes(page, "csrftoken")
            csrf_value = page.cookies["csrftoken"].value
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        form = {"username": "writer", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
        async with browser.post(
            f"{server.base_url}/accounts/login/",
            data=form,
            headers={"Origin": origin, "Cookie": f"csrftoken={csrf_value}"},
            allow_redirects=False,
        ) as login:
            assert login.status == 302
            session_cookie = cookie_attributes(login, "sessionid")
        post_id = await first_published_post_id(server, headers=proxied)
        async with browser.get(f"{server.base_url}/blog/posts/{post_id}/") as post_page:
            post_html = await post_page.text()
            policy = post_page.headers["Content-Security-Policy"]

    assert "secure" in csrf_cookie
    assert {"secure", "httponly", "samesite=lax"} <= session_cookie
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)
    assert "connect-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "importmap" not in post_html
    script = rf'<script type="module" src="/static/blog/live-comments\.[0-9a-f]{{12}}\.js" nonce="{nonce}"'
    assert re.search(script, post_html)


async def test_plain_http_is_redirected_to_https(start_daphne):
    server = start_daphne(**HTTPS_BEHIND_PROXY)
    async with aiohttp.ClientSession() as client, client.get(f"{server.base_url}/blog/", allow_redirects=False) as r:
        assert r.status == 301
        assert r.headers["Location"] == f"https://127.0.0.1:{server.port}/blog/"


@pytest.mark.parametrize("trusted_proxies", ["", "192.0.2.1"], ids=["no-proxy", "another-proxy"])
async def test_forwarded_proto_is_not_believed_unless_the_peer_is_a_trusted_proxy(start_daphne, trusted_proxies):
    server = start_daphne(DJANGO_HTTPS="1", BLOG_TRUSTED_PROXIES=trusted_proxies)
    async with (
        aiohttp.ClientSession(headers={"X-Forwarded-Proto": "https"}) as client,
        client.get(f"{server.base_url}/blog/", allow_redirects=False) as response,
    ):
        assert response.status == 301


async def login_attempt(server, username: str, password: str, address: str) -> int:
    """One login through the form with `address` as X-Forwarded-For (what a proxy would write); the status."""
    forwarded = {"X-Forwarded-For": address}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=forwarded) as client:
        async with client.get(f"{server.base_url}/accounts/login/"):
            pass  # the CSRF cookie
        form = {"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(client)}
        async with client.post(f"{server.base_url}/accounts/login/", data=form, allow_redirects=False) as response:
            return response.status


async def failed_logins(server, username: str, count: int, address: str) -> list[int]:
    return [await login_attempt(server, username, "wrong", address) for _ in range(count)]


async def logged_in_status(server, username: str, address: str) -> int:
    return await login_attempt(server, username, DEMO_PASSWORD, address)


async def test_behind_a_trusted_proxy_the_address_it_wrote_is_locked_out(start_daphne, server_env):
    """nginx appends the address it saw to whatever the client sent: only that last entry counts."""
    username = create_account(server_env, "proxied-target")
    server = start_daphne(BLOG_TRUSTED_PROXIES="127.0.0.1")
    statuses = [
        await login_attempt(server, username, "wrong", address=f"198.51.100.{n}, 203.0.113.10") for n in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]

    forged_first = await logged_in_status(server, username, address="198.51.100.2, 127.0.0.1, 203.0.113.10")
    other_address = await logged_in_status(server, username, address="203.0.113.11")
    assert (forged_first, other_address) == (429, 302)


async def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_lockout(start_daphne, server_env):
    username = create_account(server_env, "direct-target")
    server = start_daphne(BLOG_TRUSTED_PROXIES="")
    statuses = [
        *await failed_logins(server, username, 3, address="198.51.100.1"),
        *await failed_logins(server, username, 2, address="198.51.100.2, 127.0.0.1"),
    ]
    assert statuses[-1] == 429
    assert await logged_in_status(server, username, address="198.51.100.3") == 429


async def test_a_forged_forwarded_for_from_an_untrusted_peer_does_not_escape_the_lockout(start_daphne, server_env):
    """A proxy is configured, but not at the address this client connects from."""
    username = create_account(server_env, "untrusted-peer-target")
    server = start_daphne(BLOG_TRUSTED_PROXIES="192.0.2.1")
    statuses = [await login_attempt(server, username, "wrong", address=f"198.51.100.{n}") for n in range(5)]
    assert statuses[-1] == 429
    assert await logged_in_status(server, username, address="198.51.100.9") == 429


async def test_oversized_frame_closes_only_that_socket(daphne_server):
    post_id = await first_published_post_id(daphne_server)
    path = f"/ws/posts/{post_id}/comments/"
    writer = await logged_in_session(daphne_server, "writer")
    try:
        async with (
            aiohttp.ClientSession() as anonymous,
            anonymous.ws_connect(daphne_server.ws_url(path), origin=daphne_server.origin) as attacker,
            anonymous.ws_connect(daphne_server.ws_url(path), origin=daphne_server.origin) as bystander,
            writer.ws_connect(daphne_server.ws_url(path), origin=daphne_server.origin) as writer_ws,
        ):
            for ws in (attacker, bystander, writer_ws):
                await receive(ws)
            await attacker.send_str('{"type": "comment.create", "body": "' + "x" * 70_000 + '"}')
            while (closing := await attacker.receive(timeout=5)).type == aiohttp.WSMsgType.TEXT:
                pass  # presence updates sent before daphne noticed
            # daphne (autobahn) fails the connection: it may drop it without a close frame (1006).
            assert closing.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED}
            assert attacker.close_code in {1006, 1009}

            await writer_ws.send_json({"type": "comment.create", "body": "Still fine for everyone else"})
            created = await receive(bystander)
            assert created["comment"]["body"] == "Still fine for everyone else"
    finally:
        await writer.close()


async def test_logout_over_http_is_pushed_to_the_open_socket(daphne_server):
    post_id = await first_published_post_id(daphne_server)
    writer = await logged_in_session(daphne_server, "writer")
    try:
        async with writer.ws_connect(
            daphne_server.ws_url(f"/ws/posts/{post_id}/comments/"), origin=daphne_server.origin
        ) as ws:
            assert (await receive(ws))["user"] == "writer"
            async with writer.post(
                f"{daphne_server.base_url}/accounts/logout/", data={"csrfmiddlewaretoken": csrf_token(writer)}
            ) as response:
                assert response.status == 200
            # Nothing was written on this socket, so only the push can end its session: a generous
            # bound for a loaded machine still proves it.
            assert await receive(ws, within=10) == {"type": "session.ended"}
            await ws.send_json({"type": "comment.create", "body": "after logout", "client_id": "late"})
            assert (await receive(ws))["code"] == "login_required"
    finally:
        await writer.close()


async def test_racing_retries_over_http_and_socket_save_one_comment(daphne_server):
    post_id = await first_published_post_id(daphne_server)
    path = f"/ws/posts/{post_id}/comments/"
    writer = await logged_in_session(daphne_server, "reader")
    try:
        async with (
            aiohttp.ClientSession() as anonymous,
            anonymous.ws_connect(daphne_server.ws_url(path), origin=daphne_server.origin) as watcher,
            writer.ws_connect(daphne_server.ws_url(path), origin=daphne_server.origin) as writer_ws,
        ):
            await receive(watcher), await receive(writer_ws)
            frame = {"type": "comment.create", "body": "Sent twice", "client_id": "race-1"}
            form = {"body": "Sent twice", "client_id": "race-1", "csrfmiddlewaretoken": csrf_token(writer)}

            async def over_http() -> dict:
                async with writer.post(
                    f"{daphne_server.base_url}/blog/posts/{post_id}/comments/",
                    data=form,
                    headers={"Accept": "application/json"},
                ) as response:
                    assert response.status in {200, 201}
                    return await response.json()

            async def over_socket() -> dict:
                await writer_ws.send_json(frame)
                while (answer := await receive(writer_ws))["type"] != "comment.ack":
                    pass
                return answer

            http_answer, ack = await asyncio.gather(over_http(), over_socket())
            assert http_answer["comment"]["id"] == ack["id"]
            created = await receive(watcher)
            assert created["comment"]["id"] == ack["id"]
            with pytest.raises(TimeoutError):
                await receive(watcher, within=0.5)  # one broadcast, not two
    finally:
        await writer.close()

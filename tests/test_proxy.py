"""Forwarding headers are believed only from BLOG_TRUSTED_PROXIES, and then only the entry that proxy wrote."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIRequest

from asgi_blog.proxy import TrustedProxyMiddleware
from blog.network import client_address

FORGED_FIRST = "198.51.100.2"
REAL_CLIENT = "203.0.113.7"
PROXY = "127.0.0.1"


class SeenScope:
    """The innermost application: remembers the scope it was called with."""

    scope: dict | None = None

    async def __call__(self, scope, receive, send):
        self.scope = scope


async def scope_after_proxy(
    *, peer: str | None = PROXY, kind: str = "http", headers: list[tuple[bytes, bytes]] | None = None
) -> dict:
    seen = SeenScope()
    scope = {
        "type": kind,
        "path": "/",
        "headers": headers or [],
        "client": None if peer is None else [peer, 40000],
    }
    if kind == "http":
        scope.update(method="GET", scheme="http", query_string=b"")
    await TrustedProxyMiddleware(seen)(scope, None, None)
    return seen.scope


def request_for(scope: dict) -> ASGIRequest:
    """The request Django's ASGI handler builds from this scope."""
    return ASGIRequest(scope, io.BytesIO())


# What nginx sends with `proxy_add_x_forwarded_for` when the client forged its own header.
APPENDED = [(b"x-forwarded-for", f"{FORGED_FIRST}, {REAL_CLIENT}".encode()), (b"x-forwarded-proto", b"https")]


async def test_without_a_trusted_proxy_forwarding_headers_are_ignored(settings):
    settings.BLOG_TRUSTED_PROXIES = []
    request = request_for(await scope_after_proxy(headers=APPENDED))
    assert client_address(request) == PROXY
    assert not request.is_secure()


async def test_from_a_trusted_proxy_the_last_forwarded_entry_is_the_client(settings):
    settings.BLOG_TRUSTED_PROXIES = [PROXY]
    request = request_for(await scope_after_proxy(headers=APPENDED))
    assert client_address(request) == REAL_CLIENT
    assert request.is_secure()
    assert request.scheme == "https"


async def test_a_peer_outside_the_trusted_proxies_is_not_believed(settings):
    settings.BLOG_TRUSTED_PROXIES = [PROXY]
    request = request_for(await scope_after_proxy(peer="192.0.2.50", headers=APPENDED))
    assert client_address(request) == "192.0.2.50"
    assert not request.is_secure()


async def test_trusted_proxies_may_be_networks(settings):
    settings.BLOG_TRUSTED_PROXIES = ["10.0.0.0/8", "::1"]
    inside = await scope_after_proxy(peer="10.20.30.40", headers=APPENDED)
    over_ipv6 = await scope_after_proxy(peer="::1", headers=APPENDED)
    outside = await scope_after_proxy(peer="11.0.0.1", headers=APPENDED)
    assert (inside["client"][0], over_ipv6["client"][0], outside["client"][0]) == (REAL_CLIENT, REAL_CLIENT, "11.0.0.1")


async def test_a_websocket_through_a_trusted_https_proxy_is_wss(settings):
    settings.BLOG_TRUSTED_PROXIES = [PROXY]
    secure = await scope_after_proxy(kind="websocket", headers=APPENDED)
    plain = await scope_after_proxy(kind="websocket", headers=[(b"x-forwarded-proto", b"http")])
    assert (secure["scheme"], secure["client"][0]) == ("wss", REAL_CLIENT)
    assert plain["scheme"] == "ws"


async def test_several_forwarded_for_headers_count_as_one_list(settings):
    settings.BLOG_TRUSTED_PROXIES = [PROXY]
    headers = [(b"x-forwarded-for", FORGED_FIRST.encode()), (b"x-forwarded-for", REAL_CLIENT.encode())]
    assert (await scope_after_proxy(headers=headers))["client"][0] == REAL_CLIENT


@pytest.mark.parametrize(
    "headers",
    [
        [(b"x-forwarded-for", b"not-an-address"), (b"x-forwarded-proto", b"gopher")],
        [(b"x-forwarded-for", b" , ")],
        [],
    ],
    ids=["garbage", "empty-entries", "no-headers"],
)
async def test_a_trusted_proxy_without_usable_headers_leaves_the_scope_alone(settings, headers):
    settings.BLOG_TRUSTED_PROXIES = [PROXY]
    scope = await scope_after_proxy(headers=headers)
    assert (scope["client"][0], scope["scheme"]) == (PROXY, "http")


async def test_a_connection_without_a_peer_address_is_left_alone(settings):
    settings.BLOG_TRUSTED_PROXIES = [PROXY]
    assert (await scope_after_proxy(peer=None, headers=APPENDED))["client"] is None


def test_a_bad_trusted_proxy_setting_stops_the_server_at_start_up(settings):
    settings.BLOG_TRUSTED_PROXIES = ["nginx.local"]
    with pytest.raises(ImproperlyConfigured, match="BLOG_TRUSTED_PROXIES"):
        TrustedProxyMiddleware(SeenScope())

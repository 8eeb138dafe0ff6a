"""The handshake's Origin must be the site's own (scheme, host and port) or listed in CSRF_TRUSTED_ORIGINS.

Through the real ASGI application, trusted-proxy middleware included.
"""

from __future__ import annotations

import pytest

SITE = "127.0.0.1:8123"


async def handshake(sockets, post, *, origin: str, host: str = SITE, peer: str = "127.0.0.1", headers=()) -> bool:
    """Open a socket as a browser on http://<host> would (or a proxy in front of it); True if accepted."""
    socket = await sockets.handshake(post.pk, origin=origin.encode())
    scope = socket.communicator.scope
    scope["headers"] = [
        *[(name, value) for name, value in scope["headers"] if name != b"host"],
        (b"host", host.encode()),
        *headers,
    ]
    scope["client"] = [peer, 50000]
    connected, _ = await socket.connect()
    return connected


@pytest.mark.parametrize(
    "origin",
    [
        f"http://{SITE}",
        f"HTTP://{SITE.upper()}",
    ],
)
async def test_the_sites_own_origin_is_accepted(sockets, post, origin):
    assert await handshake(sockets, post, origin=origin)


async def test_a_default_port_is_the_same_origin_written_or_not(sockets, post):
    assert await handshake(sockets, post, host="localhost", origin="http://localhost:80")
    assert await handshake(sockets, post, host="localhost:80", origin="http://localhost")


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9",  # another program on the same host
        "http://localhost:31337",  # an allowed host name, on another port
        "https://127.0.0.1",  # another scheme (and port)
        "http://127.0.0.1",  # the default port is not the site's port
        f"http://{SITE}/evil",  # not a serialised origin
        f"http://user@{SITE}",
        f"ws://{SITE}",
        "null",
    ],
)
async def test_another_origin_on_the_same_host_is_foreign(sockets, post, origin, caplog):
    with caplog.at_level("INFO", logger="realtime.origin"):
        assert not await handshake(sockets, post, origin=origin)
    assert "websocket refused reason=origin-not-allowed" in caplog.text


async def test_a_host_outside_allowed_hosts_is_refused_even_with_a_matching_origin(sockets, post, caplog):
    """DNS rebinding: evil.example resolving to this server must not make its pages same-origin."""
    with caplog.at_level("INFO", logger="realtime.origin"):
        assert not await handshake(sockets, post, host="evil.example", origin="http://evil.example")
    assert "websocket refused reason=host-not-allowed" in caplog.text


async def test_several_origin_headers_are_refused(sockets, post, caplog):
    with caplog.at_level("INFO", logger="realtime.origin"):
        second = [(b"origin", f"http://{SITE}".encode())]
        assert not await handshake(sockets, post, origin=f"http://{SITE}", headers=second)
    assert "websocket refused reason=several-origins" in caplog.text


async def test_an_origin_listed_in_csrf_trusted_origins_is_accepted(sockets, post, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://blog.example.com", "https://*.example.org"]
    assert await handshake(sockets, post, origin="https://blog.example.com")
    assert await handshake(sockets, post, origin="https://www.example.org:443")
    assert not await handshake(sockets, post, origin="http://blog.example.com")
    assert not await handshake(sockets, post, origin="https://blog.example.com:8443")
    assert not await handshake(sockets, post, origin="https://example.org.evil.example")


FORWARDED_HTTPS = [(b"x-forwarded-proto", b"https"), (b"x-forwarded-for", b"203.0.113.7")]


async def test_through_a_trusted_https_proxy_the_origin_is_https(sockets, post, settings):
    settings.BLOG_TRUSTED_PROXIES = ["127.0.0.1"]
    assert await handshake(sockets, post, host="localhost", origin="https://localhost", headers=FORWARDED_HTTPS)
    assert not await handshake(sockets, post, host="localhost", origin="http://localhost", headers=FORWARDED_HTTPS)


async def test_a_forwarded_proto_from_an_untrusted_peer_does_not_make_the_site_https(sockets, post, settings):
    settings.BLOG_TRUSTED_PROXIES = ["127.0.0.1"]
    untrusted = {"peer": "192.0.2.50", "host": "localhost", "headers": FORWARDED_HTTPS}
    assert not await handshake(sockets, post, origin="https://localhost", **untrusted)
    assert await handshake(sockets, post, origin="http://localhost", **untrusted)

"""Client address and scheme from a proxy we run, and from no one else.

daphne's own --proxy-headers believes X-Forwarded-For from any peer and takes
its FIRST entry, which the client writes: behind a proxy that appends, anyone
could choose their address (and escape a login lockout). So daphne runs without
it, and this middleware, around both HTTP and WebSocket, rewrites the scope
only when the connection comes from an address in BLOG_TRUSTED_PROXIES: the
client address becomes the LAST X-Forwarded-For entry (the one that proxy wrote
itself) and the scheme follows X-Forwarded-Proto. Everything downstream (Django's
REMOTE_ADDR and request.is_secure(), django-axes, the comment limits, the
WebSocket origin check) then reads the scope and needs no header of its own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# What X-Forwarded-Proto may say, and what it means for each kind of connection.
FORWARDED_SCHEMES = {
    "http": {"http": "http", "https": "https"},
    "websocket": {"http": "ws", "https": "wss"},
}


@lru_cache(maxsize=8)
def trusted_networks(addresses: tuple[str, ...]) -> tuple[Network, ...]:
    """Parse BLOG_TRUSTED_PROXIES ("127.0.0.1", "10.0.0.0/8", "::1"), refusing anything else clearly."""
    networks = []
    for address in addresses:
        try:
            networks.append(ipaddress.ip_network(address, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"BLOG_TRUSTED_PROXIES takes addresses or networks (127.0.0.1, 10.0.0.0/8, ::1), not {address!r}."
            ) from None
    return tuple(networks)


def ip_address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text or "")
    except ValueError:
        return None


def is_trusted_proxy(peer: str | None, networks: Iterable[Network]) -> bool:
    address = ip_address(peer)  # None for a Unix socket path or similar: no proxy of ours
    return address is not None and any(address in network for network in networks)


def last_header_entry(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The last comma-separated entry over every header called `name`: the one the nearest proxy wrote."""
    values = [value.decode("latin-1") for header, value in headers if header.lower() == name]
    entries = [entry.strip() for value in values for entry in value.split(",") if entry.strip()]
    return entries[-1] if entries else None


def forwarded_scope(scope: dict[str, Any]) -> dict[str, Any]:
    """The scope as the client saw the connection, from the headers a trusted proxy wrote."""
    headers = scope.get("headers", [])
    scope = dict(scope)
    # Not an address means a misconfigured proxy: keep the proxy's own address rather than guess.
    if (client := ip_address(last_header_entry(headers, b"x-forwarded-for"))) is not None:
        scope["client"] = [str(client), 0]
    forwarded_proto = last_header_entry(headers, b"x-forwarded-proto")
    if forwarded_proto is not None:
        scheme = FORWARDED_SCHEMES[scope["type"]].get(forwarded_proto.lower())
        if scheme is not None:
            scope["scheme"] = scheme
    return scope


class TrustedProxyMiddleware:
    """Believe X-Forwarded-For and X-Forwarded-Proto only from BLOG_TRUSTED_PROXIES (see the module docstring)."""

    def __init__(self, application) -> None:
        self.application = application
        # Parsed now so that a bad value stops the server at start-up, not at the first request.
        trusted_networks(tuple(settings.BLOG_TRUSTED_PROXIES))

    async def __call__(self, scope, receive, send):
        if scope["type"] in FORWARDED_SCHEMES:
            networks = trusted_networks(tuple(settings.BLOG_TRUSTED_PROXIES))
            peer = (scope.get("client") or [None])[0]
            if networks and is_trusted_proxy(peer, networks):
                scope = forwarded_scope(scope)
        return await self.application(scope, receive, send)

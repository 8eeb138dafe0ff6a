"""The WebSocket origin check: same scheme, host and port as the site, with a log line for every refusal.

Channels' AllowedHostsOriginValidator compares only the Origin's host name with
ALLOWED_HOSTS, so a page on another port of the same host (another program on
the machine, http://127.0.0.1:9) or over plain HTTP could open sockets with the
reader's cookie; and it refuses silently, which makes a misconfiguration hard
to diagnose. Here the Origin must equal the site's own origin: the scheme the
connection came with (wss → https, as a trusted proxy reports it, see
asgi_blog/proxy.py) and the Host header, itself one of ALLOWED_HOSTS. Other
origins of ours are listed in CSRF_TRUSTED_ORIGINS, the list Django's CSRF
check reads for forms, so one setting says which origins are ours.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

logger = logging.getLogger(__name__)

# Origins are attacker-chosen text; keep log lines short.
MAX_LOGGED_ORIGIN = 200
DEFAULT_PORTS = {"http": 80, "https": 443}
# Django's get_host() allows these when debug is on and ALLOWED_HOSTS is empty.
DEBUG_ALLOWED_HOSTS = [".localhost", "127.0.0.1", "[::1]"]

# (scheme, host, port), lower-cased, with the scheme's default port filled in.
Origin = tuple[str, str, int]


def parse_origin(text: str) -> Origin | None:
    """An Origin header (or a CSRF_TRUSTED_ORIGINS entry) as a tuple; None for anything but scheme://host[:port]."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    if parts.path or parts.query or parts.fragment:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def single_header(scope: dict[str, Any], name: bytes) -> tuple[str | None, int]:
    """The header's value if sent exactly once, and how many times it was sent."""
    values = [value for header, value in scope.get("headers", []) if header == name]
    return (values[0].decode("latin-1") if len(values) == 1 else None), len(values)


def site_origin(scope: dict[str, Any]) -> Origin | None:
    """The origin the client reached: the connection's scheme and its Host, if that host is ours."""
    host, _ = single_header(scope, b"host")
    if host is None:
        return None
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = DEBUG_ALLOWED_HOSTS
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, allowed_hosts):
        return None
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    return parse_origin(f"{scheme}://{host}")


def is_trusted_origin(origin: Origin) -> bool:
    """Listed in CSRF_TRUSTED_ORIGINS, with Django's meaning of "https://*.example.com"."""
    scheme, host, port = origin
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in entry
        trusted = parse_origin(entry.replace("://*.", "://", 1) if wildcard else entry)
        if trusted is None or trusted[0] != scheme or trusted[2] != port:
            continue
        matches = is_same_domain(host, "." + trusted[1]) if wildcard else host == trusted[1]
        if matches:
            return True
    return False


def refusal_reason(scope: dict[str, Any]) -> str | None:
    """Why this handshake must be refused, or None to let it through."""
    origin_text, count = single_header(scope, b"origin")
    if count == 0:
        return "missing-origin"
    if count > 1:
        return "several-origins"
    own = site_origin(scope)
    if own is None:
        return "host-not-allowed"
    origin = parse_origin(origin_text)  # "null" (sandboxed pages, file://) parses to None
    if origin is None or (origin != own and not is_trusted_origin(origin)):
        return "origin-not-allowed"
    return None


class SiteOriginValidator:
    """Accept handshakes only from the site's own origin or CSRF_TRUSTED_ORIGINS; log every refusal."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        reason = refusal_reason(scope)
        if reason is None:
            return await self.application(scope, receive, send)
        origin, _ = single_header(scope, b"origin")
        logger.info(
            "websocket refused reason=%s origin=%r path=%s",
            reason,
            (origin or "")[:MAX_LOGGED_ORIGIN],
            scope.get("path", ""),
        )
        return await WebsocketDenier()(scope, receive, send)

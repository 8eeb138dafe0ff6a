from __future__ import annotations

from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The address the connection came from.

    Behind a proxy listed in BLOG_TRUSTED_PROXIES, asgi_blog/proxy.py has already
    put here the address that proxy saw (the last X-Forwarded-For entry); from any
    other peer it is the peer itself. Headers are not read here, since any client
    can send them.
    """
    return request.META.get("REMOTE_ADDR")

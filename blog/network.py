from __future__ import annotations

from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The address the connection came from.

    Behind a proxy, daphne --proxy-headers has already put the real client
    address here; headers such as X-Forwarded-For are not read, since any
    client can send them.
    """
    return request.META.get("REMOTE_ADDR")

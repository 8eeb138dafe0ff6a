"""Per-address limits where accounts cost nothing: signups, and failed logins whatever the username.

Both are slots (blog/slots.py) named after the client address, so they hold
across processes with Redis. BLOG_SIGNUP_RATE_LIMIT = "N/S": an address
creates at most N accounts in any S seconds. BLOG_LOGIN_ADDRESS_FAILURE_LIMIT
= "N/S": each failed login from an address holds a slot for S seconds, and
while all N are held every login from that address is refused, even with
the right password, before any password is hashed. django-axes still locks
out a username from an address after a few failures; this limit stops one
address from trying many usernames. A successful login does not free the
address's failures: an attacker with an account of their own could reset them.

The address is blog.network.client_address(request), the one the trusted
proxy saw. When the cache is down the limits let requests through (and log
it), as the comment budget does: the password hashing and django-axes remain.
"""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from blog.network import client_address
from blog.slots import Slot, aslot_release, aslot_take, aslots_free_in, slot_take, slots_free_in

logger = logging.getLogger(__name__)

# Set on the request by LoginAddressGate, so the login view can answer 429.
REFUSED_ATTRIBUTE = "login_address_retry_after"


class AddressLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after  # whole seconds until the address may try again
        super().__init__(f"Too many requests from this address. Try again in {retry_after} seconds.")


def address_key(request: HttpRequest) -> str:
    # Requests without an address (a misconfigured proxy) share one allowance rather than none.
    return client_address(request) or "unknown"


async def asignup_slot_take(request: HttpRequest) -> Slot | None:
    """Hold one of the address's signups, or raise AddressLimited. None: nothing to give back later."""
    rate = settings.BLOG_SIGNUP_RATE_LIMIT
    if rate is None:
        return None
    capacity, seconds = rate
    name = f"blog:signups:{address_key(request)}"
    try:
        slot = await aslot_take(name=name, capacity=capacity, seconds=seconds)
        if slot is not None:
            return slot
        free_in = await aslots_free_in(name=name, capacity=capacity)
    except Exception:
        logger.warning("signup limit unavailable, allowing the signup", exc_info=True)
        return None
    raise AddressLimited(retry_after=max(1, math.ceil(free_in)))


async def asignup_slot_release(slot: Slot | None) -> None:
    """Give back a signup that created no account."""
    if slot is None:
        return
    try:
        await aslot_release(slot)
    except Exception:
        logger.warning("signup limit unavailable, the slot expires by itself", exc_info=True)


def login_failures_retry_after(request: HttpRequest) -> int:
    """Seconds until this address may try to log in again; 0 when it may now."""
    rate = settings.BLOG_LOGIN_ADDRESS_FAILURE_LIMIT
    if rate is None:
        return 0
    capacity, _ = rate
    try:
        free_in = slots_free_in(name=f"blog:login-failures:{address_key(request)}", capacity=capacity)
    except Exception:
        logger.warning("login address limit unavailable, allowing the login", exc_info=True)
        return 0
    return math.ceil(free_in)


def login_failure_record(request: HttpRequest) -> None:
    rate = settings.BLOG_LOGIN_ADDRESS_FAILURE_LIMIT
    if rate is None:
        return
    capacity, seconds = rate
    try:
        slot_take(name=f"blog:login-failures:{address_key(request)}", capacity=capacity, seconds=seconds)
    except Exception:
        logger.warning("login address limit unavailable, failure not counted", exc_info=True)


class LoginAddressGate:
    """First in AUTHENTICATION_BACKENDS: refuses an address over its failures before any backend hashes.

    Raising PermissionDenied stops django.contrib.auth.authenticate() at once,
    for the site's login and the admin's alike. Like django-axes' backend it
    has no get_user(), so force_login() and sessions never name it.
    """

    def authenticate(self, request: HttpRequest | None, **credentials: object) -> None:
        if request is None:
            return None
        if retry_after := login_failures_retry_after(request):
            setattr(request, REFUSED_ATTRIBUTE, retry_after)
            raise PermissionDenied("Too many failed logins from this address.")
        return None


class LoginFailureCounter:
    """Last in AUTHENTICATION_BACKENDS: reached only when every backend before it refused the credentials."""

    def authenticate(self, request: HttpRequest | None, **credentials: object) -> None:
        if request is not None:
            login_failure_record(request)
        return None

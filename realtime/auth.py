"""Who is behind a socket, decided by Django's own session rules, at connect and at every comment.

Channels' stock get_user() checks the session's auth hash against the current
SECRET_KEY only, and flushes the session (logging the user out over HTTP too)
when it matches a key in SECRET_KEY_FALLBACKS. Django's aget_user() knows the
fallbacks, but then cycles the session key, which a socket cannot hand back to
the browser as a cookie. So the socket verifies the session read-only, with
Django's rules: known backend, active user, auth hash valid under the current
key or a fallback. The next HTTP request upgrades the hash as usual.

The socket's user also carries `otp_device`, as OTPMiddleware gives it over HTTP:
the second factor the session gave, if that device is still the user's and confirmed,
or None. The services ask it (blog/accounts/two_factor/policy.py) before a power that
needs it; the socket's identity is the same either way.

The check is one sync function run in one call on the database thread (the
session row and the user, and the device only when the session names one), because every hop to the database
thread waits behind every other socket's; a handshake without a session cookie
makes none. Channels' session middleware is not used: it wraps every frame sent
to save a session that a socket never changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import parse_cookie
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_otp import DEVICE_ID_SESSION_KEY

from blog.accounts.sessions.services import session_store
from blog.accounts.two_factor import selectors as two_factor_selectors
from blog.models import User
from realtime.admission import HANDSHAKE_SCOPE_KEY, Handshake, HandshakeTooLate, check_in_time
from realtime.database_thread import on_database_thread

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionRead:
    user: User | AnonymousUser
    # When the stored session expires, read with it; None when the store cannot say (not the database backend).
    expires_at: datetime | None = None


def read_session(session: SessionBase, handshake: Handshake | None = None) -> SessionRead:
    """The user a session names (or AnonymousUser) and its expiry. Sync: the caller runs it in one database hop.

    Never modifies the session. Raises HandshakeTooLate, before any query, for a handshake no one waits for.
    """
    check_in_time(handshake)
    expires_at = load_session(session)
    user_id = get_user_model()._meta.pk.to_python(session.get(SESSION_KEY))
    backend_path = session.get(BACKEND_SESSION_KEY)
    if user_id is None or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return SessionRead(AnonymousUser())
    # ModelBackend.get_user() returns None for inactive users.
    user = load_backend(backend_path).get_user(user_id)
    if user is None:
        return SessionRead(AnonymousUser())
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash:
        return SessionRead(AnonymousUser())
    valid_hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, valid) for valid in valid_hashes):
        return SessionRead(AnonymousUser())
    user.otp_device = two_factor_selectors.session_device(user, session.get(DEVICE_ID_SESSION_KEY))
    return SessionRead(user, expires_at)


def load_session(session: SessionBase) -> datetime | None:
    """Load the session's data; with the database backend, return its row's expiry read in the same query.

    The row's date, not get_expiry_date(): that counts an expiry given in seconds
    from now on every call, while the row counts from the session's last save.
    Reading it here saves the socket's expiry watch a query of its own at connect.
    """
    read_row = getattr(session, "_get_session_from_db", None)  # the db and cached_db backends
    if read_row is None:
        session.keys()  # loads the data
        return None
    row = read_row()  # None for a missing or expired session (and the key is forgotten, as load() does)
    session._session_cache = session.decode(row.session_data) if row else {}
    return row.expire_date if row else None


def session_still_names_now(session_key: str | None, user: User) -> User | None:
    """Sync: reload the session from its store; the fresh user if it still names `user`."""
    if not session_key:
        return None
    current = read_session(session_store(session_key)).user
    if current.is_authenticated and current.pk == user.pk:
        return current
    return None


async def session_still_names(session_key: str | None, user: User) -> User | None:
    """Reload the session from its store; return the fresh user if it still names `user`.

    A session that was deleted (logout), expired, or whose hash no longer
    matches (password changed elsewhere), or whose user was deactivated, fails.
    """
    if not session_key:
        return None
    return await on_database_thread(session_still_names_now)(session_key, user)


def session_expires_at_now(session_key: str | None) -> datetime | None:
    store = session_store(session_key)
    if hasattr(store, "get_model_class"):
        rows = store.get_model_class().objects.filter(session_key=session_key, expire_date__gt=timezone.now())
        return rows.values_list("expire_date", flat=True).first()
    if not store.exists(session_key):
        return None
    return store.get_expiry_date()


async def session_expires_at(session_key: str | None) -> datetime | None:
    """When the stored session expires; None when it is gone or has expired."""
    return await on_database_thread(session_expires_at_now)(session_key)


def session_key_from_cookie(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return parse_cookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
    return None


class SessionAuthMiddleware:
    """Puts the session (read-only) and its user in the scope: one database hop, none without a session cookie.

    Also scope["session_expires_at"]: the stored session's expiry, read with it
    (None when unknown), so the consumer need not read it again at connect.
    """

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        session = session_store(session_key_from_cookie(scope))
        read = SessionRead(AnonymousUser())
        if session.session_key is not None:
            try:
                read = await on_database_thread(read_session)(session, scope.get(HANDSHAKE_SCOPE_KEY))
            except HandshakeTooLate:
                # daphne has rejected it or is about to; a close before accept is its 403 anyway.
                logger.info("websocket refused reason=handshake-too-late path=%s", scope.get("path", ""))
                await send({"type": "websocket.close"})
                return None
        scope = dict(scope, session=session, user=read.user, session_expires_at=read.expires_at)
        return await self.inner(scope, receive, send)


def SessionAuthMiddlewareStack(inner):  # noqa: N802 - named like Channels' AuthMiddlewareStack
    return SessionAuthMiddleware(inner)

"""Who is behind a socket, decided by Django's own session rules, at connect and at every comment.

Channels' stock get_user() checks the session's auth hash against the current
SECRET_KEY only, and flushes the session (logging the user out over HTTP too)
when it matches a key in SECRET_KEY_FALLBACKS. Django's aget_user() knows the
fallbacks, but then cycles the session key, which a socket cannot hand back to
the browser as a cookie. So the socket verifies the session read-only, with
Django's rules: known backend, active user, auth hash valid under the current
key or a fallback. The next HTTP request upgrades the hash as usual.
"""

from __future__ import annotations

from datetime import datetime
from importlib import import_module

from channels.auth import AuthMiddleware
from channels.db import aclose_old_connections
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from blog.models import User


async def session_user(session: SessionBase) -> User | AnonymousUser:
    """The user a session names, or AnonymousUser; never modifies the session."""
    # Called before any consumer handler (the handshake) and from background session checks,
    # where Channels does not drop a connection that died with a database restart.
    await aclose_old_connections()
    user_id = get_user_model()._meta.pk.to_python(await session.aget(SESSION_KEY))
    backend_path = await session.aget(BACKEND_SESSION_KEY)
    if user_id is None or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    # ModelBackend.aget_user() returns None for inactive users.
    user = await load_backend(backend_path).aget_user(user_id)
    if user is None:
        return AnonymousUser()
    session_hash = await session.aget(HASH_SESSION_KEY)
    if not session_hash:
        return AnonymousUser()
    valid_hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, valid) for valid in valid_hashes):
        return AnonymousUser()
    return user


async def session_still_names(session_key: str | None, user: User) -> User | None:
    """Reload the session from its store; return the fresh user if it still names `user`.

    A session that was deleted (logout), expired, or whose hash no longer
    matches (password changed elsewhere), or whose user was deactivated, fails.
    """
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    current = await session_user(store)
    if current.is_authenticated and current.pk == user.pk:
        return current
    return None


async def session_expires_at(session_key: str | None) -> datetime | None:
    """When the stored session expires; None when it is gone or has expired."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if hasattr(store, "get_model_class"):
        # The row's date, not aget_expiry_date(): that counts an expiry given in seconds from
        # now on every call, while the row counts from the session's last save.
        rows = store.get_model_class().objects.filter(session_key=session_key, expire_date__gt=timezone.now())
        return await rows.values_list("expire_date", flat=True).afirst()
    if not await store.aexists(session_key):
        return None
    return await store.aget_expiry_date()


class SessionAuthMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware with the read-only, fallback-aware session check above."""

    async def resolve_scope(self, scope: dict) -> None:
        scope["user"]._wrapped = await session_user(scope["session"])


def SessionAuthMiddlewareStack(inner):  # noqa: N802 - named like Channels' AuthMiddlewareStack
    return CookieMiddleware(SessionMiddleware(SessionAuthMiddleware(inner)))

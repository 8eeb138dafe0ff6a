"""Signing in with a second factor: the password step leaves a pending sign-in, the code step completes it.

A user with two-factor sign-in on is not logged in by the right password: the session
remembers who (and their "remember me" choice and where they were going) for
PENDING_MAX_AGE, and the code page logs them in once a code is right. A wrong code counts
as a wrong password does, toward both lockouts: django-axes' (username and address; it
hears Django's user_login_failed signal) and the address's own limit (blog/accounts/limits.py).
While either holds, no code is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django.utils import timezone

from blog.accounts import limits as address_limits
from blog.accounts.models import User

PENDING_SESSION_KEY = "two_factor_sign_in"
PENDING_MAX_AGE = timedelta(minutes=5)


@dataclass(frozen=True)
class PendingSignIn:
    user: User
    backend: str
    remember: bool
    next_url: str


def pending_sign_in_store(request: HttpRequest, *, user: User, remember: bool, next_url: str) -> None:
    """After the right password: who is signing in, until the code step or PENDING_MAX_AGE."""
    request.session[PENDING_SESSION_KEY] = {
        "user": user._meta.pk.value_to_string(user),
        "backend": user.backend,
        "remember": remember,
        "next": next_url,
        "until": (timezone.now() + PENDING_MAX_AGE).timestamp(),
    }


async def apending_sign_in(request: HttpRequest) -> PendingSignIn | None:
    """The sign-in waiting for its code in this session; None when there is none or it is too old."""
    pending = await request.session.aget(PENDING_SESSION_KEY)
    if not isinstance(pending, dict) or pending.get("until", 0) < timezone.now().timestamp():
        return None
    if pending.get("backend") not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = await User.objects.filter(pk=pending.get("user"), is_active=True).afirst()
    if user is None:
        return None
    return PendingSignIn(
        user=user, backend=pending["backend"], remember=bool(pending.get("remember")), next_url=pending.get("next", "")
    )


async def apending_sign_in_clear(request: HttpRequest) -> None:
    await request.session.apop(PENDING_SESSION_KEY, None)


def credentials_of(user: User) -> dict[str, str]:
    """What django-axes keys its lockout on, as the login form sends it."""
    return {"username": user.get_username()}


def code_locked_out(request: HttpRequest, user: User) -> bool:
    """Sync: whether django-axes locks this username out from this address (as it would refuse the password)."""
    return AxesProxyHandler.is_locked(request, credentials_of(user))


def wrong_code_record(request: HttpRequest, user: User) -> None:
    """Sync: a wrong code counts as a failed login, for django-axes (which may lock out, answered by its
    middleware with the lockout page) and for the address's limit."""
    user_login_failed.send(sender=__name__, credentials=credentials_of(user), request=request)
    address_limits.login_failure_record(request)

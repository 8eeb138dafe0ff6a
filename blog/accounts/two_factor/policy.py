"""Who must have given a second factor before using their powers: the rule, written once.

BLOG_REQUIRE_2FA names who is covered: "staff" (is_staff), "publishers" (holders of
blog.publish_post), both, or no one. A covered user's privileged powers (the admin,
publishing, moderating, deleting someone else's comment) need a session verified with a
second factor. A session is verified when its user carries `otp_device`: django-otp's
OTPMiddleware sets it over HTTP from the device id the session stores, and
realtime/auth.py sets it on a socket's user from the same session. Signing in, reading
and writing one's own comments never need it: a session's identity is the same either way.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied

from blog.accounts.models import User

PUBLISH_PERMISSION = "blog.publish_post"

MESSAGE_SECOND_FACTOR_REQUIRED = (
    "This needs two-factor sign-in: enter a code from your authenticator app (or set it up) first."
)


class SecondFactorRequired(PermissionDenied):
    """A covered user's power was used from a session that has not given a second factor."""

    def __init__(self, message: str = MESSAGE_SECOND_FACTOR_REQUIRED) -> None:
        super().__init__(message)


def second_factor_required(user: User) -> bool:
    """Whether BLOG_REQUIRE_2FA covers this user (sync: it may read their permissions)."""
    covered = settings.BLOG_REQUIRE_2FA
    if not covered or not user.is_authenticated or not user.is_active:
        return False
    if "staff" in covered and user.is_staff:
        return True
    return "publishers" in covered and user.has_perm(PUBLISH_PERMISSION)


async def asecond_factor_required(user: User) -> bool:
    covered = settings.BLOG_REQUIRE_2FA
    if not covered or not user.is_authenticated or not user.is_active:
        return False
    if "staff" in covered and user.is_staff:
        return True
    return "publishers" in covered and await user.ahas_perm(PUBLISH_PERMISSION)


def is_verified(user: User) -> bool:
    """Whether the session this user came with gave a second factor (a user without the attribute did not)."""
    return getattr(user, "otp_device", None) is not None


def lacks_second_factor(user: User) -> bool:
    """Covered, and the session not verified: their privileged powers are refused until it is."""
    return not is_verified(user) and second_factor_required(user)


async def alacks_second_factor(user: User) -> bool:
    return not is_verified(user) and await asecond_factor_required(user)


def second_factor_check(user: User) -> None:
    """For services, before a privileged power: raise SecondFactorRequired when the session lacks it."""
    if lacks_second_factor(user):
        raise SecondFactorRequired()

"""The signed, expiring token in an address verification link.

It carries the user's id and the address it verifies: following it verifies that address only
while it is still the user's (blog/accounts/services.py), so a link for an address changed
since verifies nothing. Signed with a salt of its own, valid VERIFICATION_MAX_AGE.
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing

from blog.accounts.models import User

VERIFICATION_SALT = "blog.accounts.email-verification"
VERIFICATION_MAX_AGE = timedelta(days=3)


def verification_token(user: User, address: str) -> str:
    return signing.dumps({"user": user.pk, "address": address}, salt=VERIFICATION_SALT)


def verification_read(token: str) -> tuple[int, str]:
    """(user id, address); raises signing.SignatureExpired when too old, signing.BadSignature when not ours."""
    payload = signing.loads(token, salt=VERIFICATION_SALT, max_age=VERIFICATION_MAX_AGE)
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("user"), int)
        or not isinstance(payload.get("address"), str)
    ):
        raise signing.BadSignature("Not a verification token.")
    return payload["user"], payload["address"]

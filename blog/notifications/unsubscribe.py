"""The signed token in every notifications email's one-click unsubscribe link.

It carries the user's id and nothing else, and never expires: RFC 8058 mail clients post it
long after the email arrived, without cookies, so the signature is the only authority. A salt
of its own keeps any other signed value of the site from passing for one.
"""

from __future__ import annotations

from django.core import signing

from blog.accounts.models import User

UNSUBSCRIBE_SALT = "blog.notifications.unsubscribe"


def unsubscribe_token(user: User) -> str:
    return signing.dumps({"user": user.pk}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_user_id(token: str) -> int:
    """The user the token was made for; raises signing.BadSignature for anything it did not sign."""
    payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(payload, dict) or not isinstance(payload.get("user"), int):
        raise signing.BadSignature("Not an unsubscribe token.")
    return payload["user"]

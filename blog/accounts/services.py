"""The only code that creates accounts."""

from __future__ import annotations

from blog.accounts.models import User


def user_signup(*, username: str, password: str) -> User:
    """Create an ordinary account; the signup form has already checked the password."""
    return User.objects.create_user(username=username, password=password)

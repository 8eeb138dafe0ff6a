"""The site's user model."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """The site's user: Django's own, kept swappable from the first migration."""

    # The address whose verification link was followed. `email` is verified while the two are
    # equal, so changing the address unverifies it without a flag to keep in step.
    verified_email = models.EmailField(blank=True, editable=False)
    # Set by a moderator (blog/moderation/services.py): every comment of this user waits for approval.
    always_hold = models.BooleanField(
        default=False, help_text="Hold every comment of this user for a moderator's approval."
    )

    @property
    def has_verified_email(self) -> bool:
        return bool(self.email) and self.email == self.verified_email

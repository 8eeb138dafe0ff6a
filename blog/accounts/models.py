"""The site's user model."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The site's user: Django's own, kept swappable from the first migration."""

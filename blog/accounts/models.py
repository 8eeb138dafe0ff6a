"""The site's user model."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from blog.accounts import names


class User(AbstractUser):
    """The site's user: Django's own, kept swappable from the first migration."""

    # The address whose verification link was followed. `email` is verified while the two are
    # equal, so changing the address unverifies it without a flag to keep in step.
    verified_email = models.EmailField(blank=True, editable=False)
    # Set by a moderator (blog/moderation/services.py): every comment of this user waits for approval.
    always_hold = models.BooleanField(
        default=False, help_text="Hold every comment of this user for a moderator's approval."
    )

    # username_skeleton(username), stored by save() so that a new name is checked against every
    # other with one indexed query (blog/accounts/names.py). db_default too: a row written by
    # plain SQL (an import, a script) has an empty one until the user is saved.
    username_skeleton = models.CharField(
        max_length=names.USERNAME_SKELETON_MAX_LENGTH, db_index=True, editable=False, db_default=""
    )

    def save(self, *args: object, **kwargs: object) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "username" in update_fields:
            self.username_skeleton = names.username_skeleton(self.username)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "username_skeleton"}
        super().save(*args, **kwargs)

    @property
    def has_verified_email(self) -> bool:
        return bool(self.email) and self.email == self.verified_email

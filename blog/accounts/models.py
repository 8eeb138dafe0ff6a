"""The site's user model, and the record of each of its sign-ins."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from blog.accounts import names

# Enough of a user agent to read the browser and system from; some send kilobytes.
USER_AGENT_MAX_LENGTH = 512


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


def new_session_public_id() -> str:
    return secrets.token_urlsafe(16)


class UserSessionQuerySet(models.QuerySet):
    def open(self) -> UserSessionQuerySet:
        """Not ended by a logout or a "sign out" here; the session may still have expired in its store."""
        return self.filter(ended__isnull=True)


class UserSession(models.Model):
    """One sign-in: the session it made, where from, and whether it has ended.

    Kept after it ends, so that a sign-in from a device and address the account has never
    used can be told apart from a usual one (blog/accounts/sessions/services.py). The page
    and the forms name it by `public_id`: the session key is a bearer secret and never leaves
    the server. It is stored here because ending a session means deleting it from whichever
    store SESSION_ENGINE names, and the database backend keeps it in the clear already.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="user_sessions")
    public_id = models.CharField(max_length=22, unique=True, default=new_session_public_id, editable=False)
    session_key = models.CharField(max_length=40, db_index=True)
    # Browser and system families read from the user agent ("Firefox on Linux"): no versions,
    # so that a browser's update is not a new device.
    device = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=USER_AGENT_MAX_LENGTH, blank=True)
    # As the trusted proxy reports it (blog.network.client_address); the latest seen.
    address = models.GenericIPAddressField(null=True, blank=True)
    signed_in = models.DateTimeField(default=timezone.now)
    # Updated at most once a SESSION_SEEN_INTERVAL, not on every request.
    last_seen = models.DateTimeField(default=timezone.now)
    ended = models.DateTimeField(null=True, blank=True)

    objects = UserSessionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "ended"], name="user_session_open")]

    def __str__(self) -> str:
        return f"{self.device} session of {self.user_id}"

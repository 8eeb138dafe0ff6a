"""Who follows which post, what each person was told, how they like to hear it, and each email sent.

A notification is one row per person and comment (its kind: reply, mention or
comment, the strongest that applies). It is made in the comment's own
transaction, so it exists exactly when the comment does; the email that may
follow is an EmailDelivery row, whose state the worker moves on
(blog/notifications/tasks.py).
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q

from blog.accounts.models import User
from blog.comments.models import Comment
from blog.posts.models import Post


class Follow(models.Model):
    """A user's choice about a post. following=False is an explicit unfollow: commenting again does not undo it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="follows")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="follows")
    following = models.BooleanField(default=True)
    changed = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="follow_unique_per_user_and_post")]
        indexes = [models.Index(fields=["post", "following"])]

    def __str__(self) -> str:
        return f"{self.user_id} {'follows' if self.following else 'unfollowed'} post {self.post_id}"


class NotificationKind(models.TextChoices):
    # The order is the strength: a reply that also mentions you is one notification, a reply.
    REPLY = "reply", "Replies to your comments"
    MENTION = "mention", "Mentions of you"
    COMMENT = "comment", "New comments on posts you follow"


# Told to a comment's author when a moderator does not approve it: in the page only, whatever the preferences.
REJECTED = "rejected"
NOTICE_KINDS = [*NotificationKind.choices, (REJECTED, "Your comments a moderator did not approve")]


class Channel(models.TextChoices):
    PAGE = "page", "In the page only"
    EMAIL = "email", "In the page and by email"
    OFF = "off", "Off"


class NotificationPreferences(models.Model):
    """How a user hears of each kind; a user without a row has the defaults."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="notification_preferences")
    reply = models.CharField(max_length=5, choices=Channel, default=Channel.EMAIL)
    mention = models.CharField(max_length=5, choices=Channel, default=Channel.EMAIL)
    comment = models.CharField(max_length=5, choices=Channel, default=Channel.PAGE)

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"

    def channel(self, kind: str) -> str:
        if kind not in NotificationKind.values:
            return Channel.PAGE
        return getattr(self, NotificationKind(kind).value)


class EmailDelivery(models.Model):
    """One email: pending until the worker sends it, then sent, failed (after its retries) or cancelled.

    A notifications email gathers the recipient's notifications made while it was pending
    (Notification.delivery); a verification email carries the address it verifies; a sign-in
    email names the sign-in it tells of.
    """

    class Purpose(models.TextChoices):
        NOTIFICATIONS = "notifications", "Notifications"
        VERIFICATION = "verification", "Address verification"
        SIGN_IN = "sign-in", "New sign-in"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Nothing left to say when its time came: every notification in it read or withdrawn.
        CANCELLED = "cancelled", "Cancelled"

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_deliveries")
    purpose = models.CharField(max_length=13, choices=Purpose)
    status = models.CharField(max_length=9, choices=Status, default=Status.PENDING)
    # The address it goes (or went) to: for notifications, the verified one when it is sent.
    address = models.EmailField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    send_after = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent = models.DateTimeField(null=True, blank=True)
    # The sign-in a "new sign-in" email tells of.
    user_session = models.ForeignKey(
        "blog.UserSession", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            # At most one notifications email waits per person: new notifications join it.
            models.UniqueConstraint(
                fields=["recipient"],
                condition=Q(purpose="notifications", status="pending"),
                name="email_delivery_one_pending_digest",
            )
        ]
        indexes = [models.Index(fields=["status", "send_after"])]
        verbose_name_plural = "email deliveries"

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} email to {self.recipient_id}: {self.status}"


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read__isnull=True)

    def visible(self) -> NotificationQuerySet:
        """On posts readers can see now: a post unpublished since hides what was said on it."""
        return self.filter(post__status=Post.Status.PUBLISHED)


class Notification(models.Model):
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=10, choices=NOTICE_KINDS)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    # CASCADE: a comment removed takes its notifications with it (a placeholder's are withdrawn by the service).
    comment = models.ForeignKey("blog.Comment", on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    read = models.DateTimeField(null=True, blank=True)
    # What a moderator said to the author (kind "rejected").
    note = models.TextField(blank=True, db_default="")
    # The email that tells of it, if its recipient hears of this kind by email.
    delivery = models.ForeignKey(
        EmailDelivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "comment"], name="notification_one_per_comment_and_person")
        ]
        indexes = [models.Index(fields=["recipient", "id"]), models.Index(fields=["recipient", "read"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id} about comment {self.comment_id}"

    def as_json(self) -> dict[str, object]:
        """As the list's JSON and the live frame show it (actor and comment loaded)."""
        actor = self.actor.get_username() if self.actor is not None else None
        return self.json_of(
            self.pk, self.kind, self.comment, actor, self.created, read=self.read is not None, note=self.note
        )

    @staticmethod
    def json_of(
        pk: int, kind: str, comment: Comment, actor: str | None, created: datetime, *, read: bool, note: str = ""
    ) -> dict[str, object]:
        """The JSON from its parts: the thousands a followed post makes are never loaded as models."""
        return {
            "id": pk,
            "kind": str(kind),
            "post": comment.post_id,
            "comment": comment.pk,
            "actor": actor,
            "created": created.isoformat(),
            "read": read,
            "note": note,
        }

"""Readers' flags on comments, and the record of every moderation action.

A comment's own status (blog/comments/models.py) says who may see it; these say why.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from blog.accounts.models import User
from blog.comments.models import Comment
from blog.posts.models import Post


class Flag(models.Model):
    """One reader's report of one comment: at BLOG_FLAG_THRESHOLD open flags the comment is hidden for review."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        ABUSE = "abuse", "Abuse"
        OFF_TOPIC = "off-topic", "Off-topic"
        OTHER = "other", "Other"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="flags_given")
    reason = models.CharField(max_length=10, choices=Reason)
    created = models.DateTimeField(auto_now_add=True)
    # Set when a moderator decided the comment stays: the flag no longer counts toward hiding it.
    cleared = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="flag_once_per_reader")]
        indexes = [models.Index(fields=["comment"], condition=Q(cleared__isnull=True), name="flag_open")]

    def __str__(self) -> str:
        return f"{self.user_id} flagged comment {self.comment_id} ({self.reason})"


class ModerationAction(models.Model):
    """Who did what to whose comment or account, when and why; written by blog/moderation/services.py only."""

    class Kind(models.TextChoices):
        HOLD = "hold", "Held for approval"
        APPROVE = "approve", "Approved"
        REJECT = "reject", "Rejected"
        HIDE = "hide", "Hidden"
        RESTORE = "restore", "Restored"
        REMOVE = "remove", "Removed"
        DELETE = "delete", "Deleted another's comment"
        BAN = "ban", "Banned"
        ALWAYS_HOLD = "always-hold", "Set to always hold"
        STOP_HOLDING = "stop-holding", "Stopped always holding"

    # None: the blog itself (a spam signal, or readers' flags reaching the threshold).
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="moderation_actions")
    kind = models.CharField(max_length=12, choices=Kind)
    # Whose comment or account it was.
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="moderation_received"
    )
    comment = models.ForeignKey(Comment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Kept when the comment is gone: the id, and what it said when the action was taken.
    comment_number = models.BigIntegerField(null=True, blank=True)
    body = models.TextField(blank=True)
    post = models.ForeignKey(Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["author", "kind"]), models.Index(fields=["actor", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor_id or 'the blog'} at {self.at:%Y-%m-%d %H:%M:%S}"

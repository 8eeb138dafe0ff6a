"""Comments, the bodies they had before an edit, and the numbered changes that readers resume from."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from blog.accounts.models import User
from blog.comments.markup import mention_candidates, render_comment_body

COMMENT_MAX_LENGTH = 2000
CLIENT_ID_MAX_LENGTH = 64
COMMENT_EDIT_WINDOW = timedelta(minutes=5)
# How far behind a reader may resume (new comments, or edits and deletions); further behind, it reloads.
RESUME_LIMIT = 200
# A comment (depth 0), a reply (1) and a reply to a reply (2); a reply to the last level joins its siblings.
MAX_REPLY_DEPTH = 2

MESSAGE_COMMENT_EMPTY = "Write something before posting."
MESSAGE_COMMENT_TOO_LONG = f"Keep comments to {COMMENT_MAX_LENGTH:,} characters or fewer."
MESSAGE_COMMENT_NUL = "Comments cannot contain NUL characters."
MESSAGE_COMMENT_SURROGATE = "Comments must be valid Unicode text."
MESSAGE_CLIENT_ID_NUL = "client_id cannot contain NUL characters."
MESSAGE_CLIENT_ID_SURROGATE = "client_id must be valid Unicode text."
MESSAGE_CLIENT_ID_TOO_LONG = f"client_id is limited to {CLIENT_ID_MAX_LENGTH} characters."


def mentionable_names(bodies: Iterable[str], users: models.Manager | None = None) -> set[str]:
    """The names these bodies mention (`@name`) that belong to active users: one query, none without a mention."""
    candidates = set().union(*map(mention_candidates, bodies))
    if not candidates:
        return set()
    users = User.objects if users is None else users
    return set(users.filter(username__in=candidates, is_active=True).values_list("username", flat=True))


def rendered_bodies(bodies: Iterable[str], users: models.Manager | None = None) -> list[str]:
    """Each body as the sanitised HTML readers see, its @mentions of active users linked (one query for all)."""
    bodies = list(bodies)
    mentionable = mentionable_names(bodies, users)
    return [render_comment_body(body, mentionable=mentionable) for body in bodies]


def text_fingerprint(body: str) -> str:
    """The body's text with case and spacing ignored, as a short digest: comments that say the same
    thing share it, so a repeated text is found by an index lookup (blog/moderation/checks.py)."""
    text = " ".join(body.casefold().split())
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def validate_storable_text(value: str, *, nul_message: str, surrogate_message: str) -> None:
    """Reject text that PostgreSQL or a browser could not store or show faithfully."""
    if "\x00" in value:
        raise ValidationError(nul_message, code="nul")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(surrogate_message, code="surrogate") from None


def validate_comment_text(value: str) -> None:
    validate_storable_text(value, nul_message=MESSAGE_COMMENT_NUL, surrogate_message=MESSAGE_COMMENT_SURROGATE)
    if not value.strip():
        raise ValidationError(MESSAGE_COMMENT_EMPTY, code="blank")


def validate_client_id(value: str) -> None:
    # Every answer echoes the client_id, and PostgreSQL refuses NUL in a query.
    validate_storable_text(value, nul_message=MESSAGE_CLIENT_ID_NUL, surrogate_message=MESSAGE_CLIENT_ID_SURROGATE)


class CommentQuerySet(models.QuerySet["Comment"]):
    def bulk_create(self, objs: Iterable[Comment], *args: object, **kwargs: object) -> list[Comment]:
        """As save() does, each body is rendered (body_html) and fingerprinted on its way in."""
        comments = list(objs)
        for comment, html in zip(comments, rendered_bodies(comment.body for comment in comments), strict=True):
            comment.body_html, comment.fingerprint = html, text_fingerprint(comment.body)
        return super().bulk_create(comments, *args, **kwargs)

    def update(self, **fields: object) -> int:
        """As save() does, a new body is rendered (body_html) and fingerprinted on its way in."""
        if isinstance(fields.get("body"), str):
            [fields["body_html"]] = rendered_bodies([fields["body"]])
            fields["fingerprint"] = text_fingerprint(fields["body"])
        return super().update(**fields)

    def shown(self) -> CommentQuerySet:
        """Comments with their text: not the placeholders deleted comments leave for their replies."""
        return self.filter(deleted__isnull=True)

    def public(self) -> CommentQuerySet:
        """What every reader may see: published comments (and placeholders), not those held, hidden or
        rejected, nor the replies under a hidden one (they go with it until a moderator decides)."""
        held_back = [Comment.Status.HIDDEN]  # held and rejected comments never have replies
        return (
            self.filter(status=Comment.Status.PUBLISHED)
            .exclude(parent__status__in=held_back)
            .exclude(thread__status__in=held_back)
        )

    def under_review(self) -> CommentQuerySet:
        return self.filter(status__in=[Comment.Status.PENDING, Comment.Status.HIDDEN])

    def for_display(self) -> CommentQuerySet:
        return self.select_related("author").order_by("id")

    def after(self, comment_id: int | None) -> CommentQuerySet:
        return self if comment_id is None else self.filter(id__gt=comment_id)

    def before(self, comment_id: int | None) -> CommentQuerySet:
        return self if comment_id is None else self.filter(id__lt=comment_id)


class Comment(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        # Held before anyone saw it (pre-moderation or a spam signal): only its author and the moderators see it.
        PENDING = "pending", "Awaiting approval"
        # Seen, then flagged past the threshold or hidden by a moderator: gone for readers until restored.
        HIDDEN = "hidden", "Hidden pending review"
        # Held, then refused: kept for its author's history and the audit trail, shown to no one.
        REJECTED = "rejected", "Rejected"

    post = models.ForeignKey("blog.Post", on_delete=models.CASCADE, related_name="comments")
    # None once the comment is deleted and stays as a placeholder for its replies.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    # The comment this one answers, and the top-level comment of its thread (both None for a
    # top-level comment). RESTRICT: a comment with replies is never deleted from under them,
    # whatever the path (comment_delete leaves a placeholder instead); a post's deletion still
    # takes all of its comments.
    parent = models.ForeignKey(
        "self", on_delete=models.RESTRICT, null=True, blank=True, editable=False, related_name="replies"
    )
    thread = models.ForeignKey(
        "self", on_delete=models.RESTRICT, null=True, blank=True, editable=False, related_name="thread_replies"
    )
    # db_default too: a row written by plain SQL (an import, a script) is a top-level comment.
    depth = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    # Set when a comment with replies is deleted: its body and author are erased, its replies stay.
    deleted = models.DateTimeField(null=True, blank=True, editable=False)
    body = models.TextField(
        error_messages={"blank": MESSAGE_COMMENT_EMPTY},
        validators=[
            validate_comment_text,
            MaxLengthValidator(COMMENT_MAX_LENGTH, message=MESSAGE_COMMENT_TOO_LONG),
        ],
    )
    # The body as sanitised HTML (blog/comments/markup.py), stored by save() so that no page renders it per view.
    body_html = models.TextField(editable=False, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    edited = models.DateTimeField(null=True, blank=True)
    # Chosen by the client so that a retried submission is recognised, not saved twice.
    client_id = models.CharField(
        max_length=CLIENT_ID_MAX_LENGTH,
        null=True,
        blank=True,
        error_messages={"max_length": MESSAGE_CLIENT_ID_TOO_LONG},
        validators=[validate_client_id],
    )

    # db_default too: a row written by plain SQL (an import, a script) is published, as before moderation.
    status = models.CharField(
        max_length=10, choices=Status, default=Status.PUBLISHED, db_default=Status.PUBLISHED, editable=False
    )
    # Why it was held (blog/moderation/policy.py), for the moderators.
    held_reason = models.CharField(max_length=200, blank=True, editable=False, db_default="")
    # text_fingerprint(body), stored by save() like body_html.
    fingerprint = models.CharField(max_length=32, blank=True, editable=False, db_default="")
    # How many readers like it: its CommentLike rows, counted by comment_like (blog/comments/likes.py)
    # in the like's own transaction, so that pages show and sort by it without counting rows.
    like_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    objects = CommentQuerySet.as_manager()

    class Meta:
        permissions = [("moderate_comment", "Can moderate comments")]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=Q(client_id__isnull=False),
                name="comment_client_id_unique_per_author",
            )
        ]
        indexes = [
            models.Index(fields=["post", "id"]),
            models.Index(fields=["thread", "id"]),
            # What readers may see of a post, newest first (the hub's check), and whether any of its
            # comments waits for a moderator: answered from the index, never from rows that carry bodies.
            models.Index(fields=["post", "status", "id"], name="comment_post_status"),
            # The same text from the same author (a spam signal, blog/moderation/checks.py): the check
            # reads this index alone, never the rows (with their bodies) of a text posted many times.
            models.Index(fields=["author", "fingerprint", "created", "post"], name="comment_same_text"),
            # A post's threads, most liked first (?sort=liked): the page is a range of this index,
            # read from a cursor (blog/comments/selectors.py). Replies are never sorted by likes.
            models.Index(
                fields=["post", "like_count", "id"], condition=Q(parent__isnull=True), name="comment_post_liked"
            ),
            # The moderation queue: few rows, read oldest first.
            models.Index(fields=["id"], condition=Q(status__in=["pending", "hidden"]), name="comment_under_review"),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} by {self.author_id} on post {self.post_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "body" in update_fields:
            [self.body_html] = rendered_bodies([self.body])
            self.fingerprint = text_fingerprint(self.body)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "body_html", "fingerprint"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return f"{reverse('blog:post_detail', args=[self.post_id])}#comment-{self.pk}"

    def permalink(self) -> str:
        """A page that shows this comment however many came after it, scrolled to it.

        The post page's newest threads may have moved on: a top-level comment is on the page of
        threads up to it (?before=), a reply on its thread's page from it on (?after=).
        """
        if self.thread_id is None:
            return f"{reverse('blog:post_detail', args=[self.post_id])}?before={self.pk + 1}#comment-{self.pk}"
        return f"{reverse('blog:comment_thread', args=[self.thread_id])}?after={self.pk - 1}#comment-{self.pk}"

    def editable_until(self) -> datetime:
        return self.created + COMMENT_EDIT_WINDOW

    @property
    def is_placeholder(self) -> bool:
        return self.deleted is not None

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def as_json(self) -> dict[str, object]:
        """The comment as the HTTP API and the WebSocket frames show it (author loaded)."""
        if self.is_placeholder:
            return self.placeholder_json()
        return {
            "id": self.pk,
            "post": self.post_id,
            "parent": self.parent_id,
            "author": self.author.get_username(),
            "body": self.body,
            "html": self.body_html,
            "created": self.created.isoformat(),
            "edited": self.edited.isoformat() if self.edited else None,
            "editable_until": self.editable_until().isoformat(),
            "client_id": self.client_id,
            "status": self.status,
            "likes": self.like_count,
        }

    def placeholder_json(self) -> dict[str, object]:
        """What is left of a deleted comment with replies: its place in the thread, not what it said or who said it."""
        return {
            "id": self.pk,
            "post": self.post_id,
            "parent": self.parent_id,
            "author": None,
            "body": "",
            "html": "",
            "created": self.created.isoformat(),
            "edited": None,
            "editable_until": None,
            "client_id": None,
            "status": self.Status.PUBLISHED,
            "deleted": True,
        }


class CommentRevision(models.Model):
    """A body a comment had before an edit, kept for the moderators."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    # When this text stopped being the current one.
    replaced = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["replaced"]

    def __str__(self) -> str:
        return f"Revision of comment {self.comment_id} replaced at {self.replaced:%Y-%m-%d %H:%M:%S}"


class CommentChange(models.Model):
    """An edit, a deletion, or a moderator's publication or hiding, numbered in order,
    so that readers who missed it live catch up."""

    class Kind(models.TextChoices):
        EDITED = "edited", "Edited"
        DELETED = "deleted", "Deleted"
        # A moderator approved a held comment, or restored a hidden one: readers get it as new.
        PUBLISHED = "published", "Published"
        # Flagged past the threshold or hidden by a moderator: readers lose it (and its replies).
        HIDDEN = "hidden", "Hidden"

    post = models.ForeignKey("blog.Post", on_delete=models.CASCADE, related_name="comment_changes")
    # Not a foreign key: a deleted comment's change outlives it.
    comment_id = models.BigIntegerField()
    kind = models.CharField(max_length=10, choices=Kind)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["post", "id"])]

    def __str__(self) -> str:
        return f"Comment {self.comment_id} {self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"


class CommentLike(models.Model):
    """One reader likes one comment (not their own): written by comment_like only (blog/comments/likes.py)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_likes")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Also the index that answers "which of these comments does this reader like" (comment first).
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="comment_like_once_per_reader")]

    def __str__(self) -> str:
        return f"{self.user_id} likes comment {self.comment_id}"


class LikesVersion(models.Model):
    """A number that grows with every like and unlike of a post's comments, in the same transaction.

    Pages of comments show and sort by like counts, so their cache keys carry it (blog/comments/pages.py),
    as they carry the newest comment and change ids; it is read with the post, in the same query.
    A row of its own, written only by comment_like with F(): a post saved from an older copy (the admin,
    a publish) cannot set it back and so bring a stale page's key to life again.
    """

    post = models.OneToOneField("blog.Post", on_delete=models.CASCADE, primary_key=True, related_name="+")
    number = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Likes of post {self.post_id}: version {self.number}"

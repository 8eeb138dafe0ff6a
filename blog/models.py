from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from blog.markup import render_post_body

COMMENT_MAX_LENGTH = 2000
CLIENT_ID_MAX_LENGTH = 64
COMMENT_EDIT_WINDOW = timedelta(minutes=5)
# How far behind a reader may resume (new comments, or edits and deletions); further behind, it reloads.
RESUME_LIMIT = 200

MESSAGE_COMMENT_EMPTY = "Write something before posting."
MESSAGE_COMMENT_TOO_LONG = f"Keep comments to {COMMENT_MAX_LENGTH:,} characters or fewer."
MESSAGE_COMMENT_NUL = "Comments cannot contain NUL characters."
MESSAGE_COMMENT_SURROGATE = "Comments must be valid Unicode text."
MESSAGE_CLIENT_ID_NUL = "client_id cannot contain NUL characters."
MESSAGE_CLIENT_ID_SURROGATE = "client_id must be valid Unicode text."
MESSAGE_CLIENT_ID_TOO_LONG = f"client_id is limited to {CLIENT_ID_MAX_LENGTH} characters."


class User(AbstractUser):
    """The site's user: Django's own, kept swappable from the first migration."""


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


class PostQuerySet(models.QuerySet["Post"]):
    def published(self) -> PostQuerySet:
        return self.filter(status=Post.Status.PUBLISHED)

    def visible_to(self, user: User) -> PostQuerySet:
        """Published posts for everyone; drafts for their author and for publishers."""
        return self._visible_to(user, can_publish=user.is_authenticated and user.has_perm("blog.publish_post"))

    async def avisible_to(self, user: User) -> PostQuerySet:
        can_publish = user.is_authenticated and await user.ahas_perm("blog.publish_post")
        return self._visible_to(user, can_publish=can_publish)

    def _visible_to(self, user: User, *, can_publish: bool) -> PostQuerySet:
        if can_publish:
            return self.all()
        if not user.is_authenticated:
            return self.published()
        return self.filter(Q(status=Post.Status.PUBLISHED) | Q(author=user))

    def newest_first(self) -> PostQuerySet:
        return self.order_by("-published_at", "-created")

    def with_comment_versions(self) -> PostQuerySet:
        """Add the newest comment id and newest comment-change id (0 when none).

        Together they change whenever a comment is added, edited or deleted, so they version
        whatever is derived from the comments (blog/comment_pages.py). Each is one backward
        lookup on a (post, id) index, in the same query as the post.
        """
        newest_comment = Comment.objects.filter(post=OuterRef("pk")).order_by("-id").values("id")[:1]
        newest_change = CommentChange.objects.filter(post=OuterRef("pk")).order_by("-id").values("id")[:1]
        return self.annotate(
            newest_comment_id=Coalesce(Subquery(newest_comment), 0),
            newest_change_id=Coalesce(Subquery(newest_change), 0),
        )

    def with_comment_counts(self) -> PostQuerySet:
        """Add comment_count, counted per post in a subquery (no join that multiplies the rows)."""
        counts = Comment.objects.filter(post=OuterRef("pk")).order_by().values("post").annotate(n=Count("*"))
        return self.annotate(comment_count=Coalesce(Subquery(counts.values("n")), 0))


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The post's comment changes up to this id were pruned (manage.py prune_comment_changes),
    # so a reader resuming from an older change is told to resync rather than replayed a gap.
    changes_pruned_through = models.BigIntegerField(default=0, editable=False)
    # The body as sanitised HTML (blog/markup.py), stored by save() so that no page renders it per view.
    body_html = models.TextField(editable=False, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        permissions = [("publish_post", "Can publish posts")]
        indexes = [models.Index(fields=["status", "-published_at"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: object, **kwargs: object) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "body" in update_fields:
            self.body_html = render_post_body(self.body)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "body_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("blog:post_detail", args=[self.pk])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class CommentQuerySet(models.QuerySet["Comment"]):
    def for_display(self) -> CommentQuerySet:
        return self.select_related("author").order_by("id")

    def after(self, comment_id: int | None) -> CommentQuerySet:
        return self if comment_id is None else self.filter(id__gt=comment_id)

    def before(self, comment_id: int | None) -> CommentQuerySet:
        return self if comment_id is None else self.filter(id__lt=comment_id)


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField(
        error_messages={"blank": MESSAGE_COMMENT_EMPTY},
        validators=[
            validate_comment_text,
            MaxLengthValidator(COMMENT_MAX_LENGTH, message=MESSAGE_COMMENT_TOO_LONG),
        ],
    )
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

    objects = CommentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=Q(client_id__isnull=False),
                name="comment_client_id_unique_per_author",
            )
        ]
        indexes = [models.Index(fields=["post", "id"])]

    def __str__(self) -> str:
        return f"Comment {self.pk} by {self.author_id} on post {self.post_id}"

    def get_absolute_url(self) -> str:
        return f"{reverse('blog:post_detail', args=[self.post_id])}#comment-{self.pk}"

    def editable_until(self) -> datetime:
        return self.created + COMMENT_EDIT_WINDOW

    def as_json(self) -> dict[str, object]:
        """The comment as the HTTP API and the WebSocket frames show it (author loaded)."""
        return {
            "id": self.pk,
            "post": self.post_id,
            "author": self.author.get_username(),
            "body": self.body,
            "created": self.created.isoformat(),
            "edited": self.edited.isoformat() if self.edited else None,
            "editable_until": self.editable_until().isoformat(),
            "client_id": self.client_id,
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
    """An edit or a deletion, numbered in order, so that readers who missed it live catch up."""

    class Kind(models.TextChoices):
        EDITED = "edited", "Edited"
        DELETED = "deleted", "Deleted"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comment_changes")
    # Not a foreign key: a deleted comment's change outlives it.
    comment_id = models.BigIntegerField()
    kind = models.CharField(max_length=10, choices=Kind)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["post", "id"])]

    def __str__(self) -> str:
        return f"Comment {self.comment_id} {self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"

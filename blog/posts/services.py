"""The only code that writes posts (the admin and the views call it)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from blog.accounts.models import User
from blog.posts.models import Post

MESSAGE_CANNOT_PUBLISH = "You do not have permission to publish posts."


def post_create(*, author: User, title: str, body: str, status: str) -> Post:
    """Save a new post; only users with blog.publish_post may publish it straight away."""
    may_publish = status == Post.Status.PUBLISHED and author.has_perm("blog.publish_post")
    post = Post(
        author=author,
        title=title.strip(),
        body=body,
        status=Post.Status.PUBLISHED if may_publish else Post.Status.DRAFT,
        published_at=timezone.now() if may_publish else None,
    )
    post.full_clean()
    post.save()
    return post


def post_publish(*, post: Post, actor: User) -> Post:
    if not actor.has_perm("blog.publish_post"):
        raise PermissionDenied(MESSAGE_CANNOT_PUBLISH)
    if not post.is_published:
        post.status = Post.Status.PUBLISHED
        post.published_at = timezone.now()
        post.save(update_fields=["status", "published_at", "updated"])
    return post

"""Reads about a person: who they are publicly, and what they have published and said where anyone may read it."""

from __future__ import annotations

from blog.accounts.models import User
from blog.comments.models import Comment, CommentQuerySet
from blog.posts.models import Post, PostQuerySet


async def public_user(username: str) -> User | None:
    """The active user of that name, or None: a deactivated account has no public page."""
    return await User.objects.filter(username=username, is_active=True).afirst()


def published_posts_by(user: User) -> PostQuerySet:
    return Post.objects.published().filter(author=user).newest_first()


def published_comments_by(user: User) -> CommentQuerySet:
    """Their comments on published posts, newest first, each with its post."""
    return (
        Comment.objects.filter(author=user, post__status=Post.Status.PUBLISHED).select_related("post").order_by("-id")
    )

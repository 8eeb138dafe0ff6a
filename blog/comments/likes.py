"""Readers' likes of comments: the one writer (comment_like) and what a page reads of them.

A signed-in reader likes someone else's comment once, and may take the like back; a
like and an unlike each spend the write budget (blog/rate_limit.py), as comments do.
Only what every reader sees can be liked: a published comment, not a placeholder, nor
one held, hidden or under a hidden one (Comment.objects.public()).

The count is kept on the comment (like_count), changed with F() in the like's own
transaction, so pages show and sort by it without counting rows. The post's
LikesVersion grows in the same transaction: cached pages are keyed by it
(blog/comments/pages.py), and readers' sockets take the newest version's count
(comment.likes, realtime/likes.py). The transaction holds the post's row, as a new
comment's does, so the likes of one post commit one after another, in version order.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F

from blog import events
from blog.accounts.models import User
from blog.comments.models import Comment, CommentLike, LikesVersion
from blog.comments.services import MESSAGE_COMMENTS_CLOSED, LoginRequired
from blog.posts.models import Post
from blog.rate_limit import write_budget_spend

logger = logging.getLogger(__name__)

MESSAGE_LOGIN_TO_LIKE = "Log in to like comments."
MESSAGE_LIKE_OWN = "You cannot like your own comment."
MESSAGE_NOT_LIKEABLE = "There is no such comment to like (it may have been deleted or hidden)."
MESSAGE_LIKED_NOT_BOOLEAN = "liked must be true (like) or false (unlike)."


@dataclass(frozen=True)
class CommentLiked:
    comment_id: int
    liked: bool  # whether the reader likes it now
    likes: int  # how many readers like it now


def comment_like(*, comment: Comment, actor: User, liked: bool) -> CommentLiked:
    """Like (`liked` True) or unlike someone else's comment, then announce its new count after the commit.

    Asking for what already is (a second like from another tab) saves, announces and spends nothing.
    Raises LoginRequired, ValidationError (errors.liked; errors.id for a comment that cannot be
    liked), PermissionDenied (one's own comment, or a post no longer published) or RateLimited.
    """
    if not actor.is_authenticated:
        raise LoginRequired(MESSAGE_LOGIN_TO_LIKE)
    if not isinstance(liked, bool):
        raise ValidationError({"liked": [MESSAGE_LIKED_NOT_BOOLEAN]})
    if comment.is_placeholder or not comment.is_public:
        raise ValidationError({"id": [MESSAGE_NOT_LIKEABLE]})
    if comment.author_id == actor.pk:
        raise PermissionDenied(MESSAGE_LIKE_OWN)
    if CommentLike.objects.filter(comment_id=comment.pk, user=actor).exists() == liked:
        return CommentLiked(comment.pk, liked, _like_count(comment.pk))
    write_budget_spend(user_id=actor.pk)
    with transaction.atomic():
        # The post's row first, as comment_post takes it: one like of the post at a time, and none
        # once it is unpublished.
        if not Post.objects.select_for_update().filter(pk=comment.post_id).published().exists():
            raise PermissionDenied(MESSAGE_COMMENTS_CLOSED)
        # Checked again in the transaction: hidden by flags or deleted since the caller read it.
        if not Comment.objects.shown().public().filter(pk=comment.pk).exists():
            raise ValidationError({"id": [MESSAGE_NOT_LIKEABLE]})
        if liked:
            _, changed = CommentLike.objects.get_or_create(comment_id=comment.pk, user=actor)
        else:
            changed = CommentLike.objects.filter(comment_id=comment.pk, user=actor).delete()[0] > 0
        likes = _like_count(comment.pk)
        if changed:  # another request of the same reader may have done it meanwhile
            Comment.objects.filter(pk=comment.pk).update(like_count=F("like_count") + (1 if liked else -1))
            likes += 1 if liked else -1
            version = _likes_version_bump(comment.post_id)
            events.publish_on_commit(
                events.CommentLikesChanged(post_id=comment.post_id, comment_id=comment.pk, likes=likes, version=version)
            )
    comment.like_count = likes
    logger.info("comment like id=%s user=%s liked=%s likes=%s", comment.pk, actor.pk, liked, likes)
    return CommentLiked(comment.pk, liked, likes)


def _like_count(comment_id: int) -> int:
    return Comment.objects.values_list("like_count", flat=True).get(pk=comment_id)


def _likes_version_bump(post_id: int) -> int:
    """The post's likes version, one more than before (the post's row is locked by the caller)."""
    if not LikesVersion.objects.filter(post_id=post_id).update(number=F("number") + 1):
        LikesVersion.objects.create(post_id=post_id, number=1)
    return LikesVersion.objects.values_list("number", flat=True).get(post_id=post_id)


async def liked_by(user: User, comments: Iterable[tuple[int, int]]) -> frozenset[int]:
    """Which of these comments (id, like count) `user` likes: one query, and none when none has a like."""
    ids = [comment_id for comment_id, likes in comments if likes > 0]
    if not user.is_authenticated or not ids:
        return frozenset()
    rows = CommentLike.objects.filter(user=user, comment_id__in=ids).values_list("comment_id", flat=True)
    return frozenset([comment_id async for comment_id in rows])


def likes_withdraw(*, user: User) -> int:
    """Take back every like the user gave (their account is being deleted): each count goes down and
    the readers of each post hear it, as for an unlike, with no write budget spent. Inside the
    caller's transaction; returns how many likes went."""
    likes = list(CommentLike.objects.filter(user=user).values_list("comment__post_id", "comment_id"))
    comments_of_post: dict[int, list[int]] = defaultdict(list)
    for post_id, comment_id in likes:
        comments_of_post[post_id].append(comment_id)
    for post_id, comment_ids in sorted(comments_of_post.items()):
        # The post's row first, as comment_like takes it, so that the post's versions keep commit order.
        list(Post.objects.select_for_update().filter(pk=post_id).values_list("pk", flat=True))
        CommentLike.objects.filter(user=user, comment_id__in=comment_ids).delete()
        Comment.objects.filter(pk__in=comment_ids).update(like_count=F("like_count") - 1)
        version = _likes_version_bump(post_id)
        for comment_id, count in Comment.objects.filter(pk__in=comment_ids).values_list("pk", "like_count"):
            events.publish_on_commit(
                events.CommentLikesChanged(post_id=post_id, comment_id=comment_id, likes=count, version=version)
            )
    return len(likes)

"""Reads of comments: pages for the post page and the comment JSON, and what a reader missed.

Every page is bounded by the post's newest comment id as read with the post, so a page
and the versions it is cached under (blog/comments/pages.py) describe the same comments
even when one is added between the two queries.

The reads of what a reader missed (new comments, numbered edits and deletions) are sync:
the socket's resume and the hub's check run them on the database thread
(realtime/backlog.py turns them into frames). Each answers None when the reader is too
far behind to be handed the rest: more than `limit`, or changes that were pruned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from blog.comments.models import Comment, CommentChange
from blog.posts.models import Post


@dataclass(frozen=True)
class CommentPage:
    comments: list[Comment]  # ascending ids
    # The smallest id shown when older comments exist (the next ?before=), else None.
    earlier: int | None


async def comments_before(post: Post, *, before: int | None, limit: int) -> CommentPage:
    """The newest `limit` comments with id < before (the newest of all without it), ascending."""
    newest_first = (
        post.comments.filter(id__lte=post.newest_comment_id).before(before).select_related("author").order_by("-id")
    )
    # One more than shown, to learn whether older ones exist without a second query.
    rows = [comment async for comment in newest_first[: limit + 1]]
    shown = rows[:limit][::-1]
    return CommentPage(comments=shown, earlier=shown[0].pk if len(rows) > limit else None)


async def comments_after(post: Post, *, after: int, limit: int) -> CommentPage:
    """The oldest `limit` comments with id > after, ascending."""
    comments = post.comments.filter(id__lte=post.newest_comment_id).after(after).for_display()[:limit]
    return CommentPage(comments=[comment async for comment in comments], earlier=None)


async def comments_by_id(post: Post, ids: Iterable[int]) -> list[Comment]:
    """The post's comments among `ids` that still exist, with their authors."""
    return [comment async for comment in post.comments.filter(id__in=ids).select_related("author")]


async def comment_count(post: Post) -> int:
    return await post.comments.filter(id__lte=post.newest_comment_id).acount()


def comment_of_post(comment_id: int, post: Post) -> Comment | None:
    """Sync: the comment, with its author, if it belongs to `post`."""
    return Comment.objects.select_related("author").filter(pk=comment_id, post=post).first()


def comments_missed(post_id: int, after: int, *, limit: int) -> list[Comment] | None:
    """Sync: the post's comments newer than `after`, in id order; None when there are more than `limit`."""
    comments = list(Comment.objects.filter(post_id=post_id).after(after).for_display()[: limit + 1])
    return None if len(comments) > limit else comments


def changes_missed(post_id: int, after: int, *, limit: int) -> list[CommentChange] | None:
    """Sync: the post's changes newer than `after`, in id order; None when more than `limit` or some were pruned."""
    changes = list(CommentChange.objects.filter(post_id=post_id, id__gt=after).order_by("id")[: limit + 1])
    if len(changes) > limit:
        return None
    # Read after the changes: a prune committed in between has raised the boundary by now.
    if after < changes_pruned_through(post_id):
        return None
    return changes


def changes_pruned_through(post_id: int) -> int:
    return Post.objects.filter(pk=post_id).values_list("changes_pruned_through", flat=True).first() or 0


def comments_of_post_by_id(post_id: int, ids: list[int]) -> list[Comment]:
    """Sync: those of these comments of the post that still exist, in id order."""
    return list(Comment.objects.filter(post_id=post_id, pk__in=ids).for_display())


def changes_of_post_by_id(post_id: int, ids: list[int]) -> list[CommentChange]:
    """Sync: these changes of the post, in id order."""
    return list(CommentChange.objects.filter(post_id=post_id, pk__in=ids).order_by("id"))


def edited_comments(changes: list[CommentChange]) -> dict[int, Comment]:
    """Sync: the current state, by id, of the comments these changes edited (those still there)."""
    edited = {change.comment_id for change in changes if change.kind == CommentChange.Kind.EDITED}
    return {comment.pk: comment for comment in Comment.objects.filter(pk__in=edited).select_related("author")}

"""Reads for the post page and the comment JSON: the post with its comment versions, and pages of comments.

Every page is bounded by the post's newest comment id as read with the post, so a page
and the versions it is cached under (blog/comment_pages.py) describe the same comments
even when one is added between the two queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from blog.models import Comment, Post, User


@dataclass(frozen=True)
class CommentPage:
    comments: list[Comment]  # ascending ids
    # The smallest id shown when older comments exist (the next ?before=), else None.
    earlier: int | None


async def visible_post_with_versions(user: User, post_id: int) -> Post | None:
    """The post if this user may see it, with newest_comment_id and newest_change_id, in one query."""
    visible = await Post.objects.avisible_to(user)
    return await visible.with_comment_versions().select_related("author").filter(pk=post_id).afirst()


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

"""Reads of comments: pages for the post page and the comment JSON, and what a reader missed.

Readers see published comments only (Comment.objects.public()): those held for a moderator,
hidden after flags or rejected are in no page, count or replay.

Every page is bounded by the post's newest comment id as read with the post, so a page
and the versions it is cached under (blog/comments/pages.py) describe the same comments
even when one is added between the two queries.

A page of the post is a page of threads: top-level comments, each with the first
`replies_shown` replies of its thread and the number of the others (read a page at a time
with thread_replies). A reply's parent is older than the reply and in the same thread, so
the first replies of a thread always hang from comments shown with them.

The sort (blog/comments/cursors.py) orders the threads only; replies stay in the order of
the conversation. Oldest first, the page shows the newest threads in id order, with the
earlier ones a page back (as the post page always has); newest first, the same threads the
other way round; most liked first, the threads by like count and then id, both descending:
a range of the (post, like_count, id) index of top-level comments, read backwards from the
cursor, however deep the page.

The reads of what a reader missed (new comments, numbered edits and deletions) are sync:
the socket's resume and the hub's check run them on the database thread
(realtime/backlog.py turns them into frames). Each answers None when the reader is too
far behind to be handed the rest: more than `limit`, or changes that were pruned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, Q, Window
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.db.models.functions import Coalesce, RowNumber

from blog.accounts.models import User
from blog.comments.cursors import SORT_LIKED, SORT_OLDEST, Before, LikedCursor
from blog.comments.models import Comment, CommentChange
from blog.moderation import policy as moderation_policy
from blog.posts.models import Post


@dataclass(frozen=True)
class CommentPage:
    # Ascending ids; in a page of threads sorted newest or most liked first, each thread's top-level
    # comment then its replies (ascending), the threads in the sort's order.
    comments: list[Comment]
    # The cursor of the next page when there is one (the next ?before=), else None: the smallest
    # top-level id shown, or in `liked` order the last thread's like count and id.
    earlier: Before = None
    # For each thread shown with only its first replies: how many more it has.
    more_replies: dict[int, int] | None = None


async def threads_before(
    post: Post, *, before: Before, limit: int, replies_shown: int, sort: str = SORT_OLDEST
) -> CommentPage:
    """The first `limit` top-level comments in the sort's order after the cursor `before` (from the
    start without it), each with the first `replies_shown` replies of its thread. One query."""
    tops = post.comments.public().filter(id__lte=post.newest_comment_id, parent__isnull=True)
    if sort == SORT_LIKED:
        if before is not None:
            # A row comparison, so the database reads the index from the cursor on.
            tops = tops.filter(TupleLessThan(Tuple(F("like_count"), F("id")), (before.likes, before.id)))
        tops = tops.order_by("-like_count", "-id")
    else:
        tops = tops.before(before).order_by("-id")
    # One more than shown, to learn whether more follow.
    tops = tops.values("id")[: limit + 1]
    # A top-level comment and its replies share one partition, the comment first (the lowest id).
    thread = Coalesce("thread_id", "id")
    rows = (
        post.comments.public()
        .filter(Q(pk__in=tops) | Q(thread_id__in=tops), id__lte=post.newest_comment_id)
        .annotate(
            place=Window(RowNumber(), partition_by=thread, order_by=F("id").asc()),
            thread_size=Window(Count("id"), partition_by=thread),
        )
        .filter(place__lte=replies_shown + 1)
        .select_related("author")
        .order_by("id")
    )
    comments = [comment async for comment in rows]
    # In the order they were chosen: the first `limit` are shown, the cursor is the last of those.
    chosen = sorted(
        (comment for comment in comments if comment.parent_id is None),
        key=(lambda top: (-top.like_count, -top.pk)) if sort == SORT_LIKED else (lambda top: -top.pk),
    )
    earlier = None
    if len(chosen) > limit:
        extra = chosen.pop()
        comments = [comment for comment in comments if extra.pk not in (comment.pk, comment.thread_id)]
        last = chosen[-1]
        earlier = LikedCursor(likes=last.like_count, id=last.pk) if sort == SORT_LIKED else last.pk
    if sort != SORT_OLDEST:
        place = {top.pk: index for index, top in enumerate(chosen)}
        comments.sort(key=lambda comment: (place[comment.thread_id or comment.pk], comment.pk))
    more = {
        comment.pk: comment.thread_size - 1 - replies_shown
        for comment in comments
        if comment.parent_id is None and comment.thread_size - 1 > replies_shown
    }
    return CommentPage(comments=comments, earlier=earlier, more_replies=more)


async def thread_replies(post: Post, thread_id: int, *, after: int, limit: int) -> CommentPage:
    """The oldest `limit` replies of the thread with id > after, ascending."""
    replies = post.comments.public().filter(id__lte=post.newest_comment_id, thread_id=thread_id).after(after)
    return CommentPage(comments=[reply async for reply in replies.for_display()[:limit]])


async def comments_after(post: Post, *, after: int, limit: int) -> CommentPage:
    """The oldest `limit` comments (replies too) with id > after, ascending."""
    comments = post.comments.public().filter(id__lte=post.newest_comment_id).after(after).for_display()[:limit]
    return CommentPage(comments=[comment async for comment in comments])


async def comments_by_id(post: Post, ids: Iterable[int]) -> list[Comment]:
    """The post's comments among `ids` that still exist and readers may see, with their authors."""
    return [comment async for comment in post.comments.public().filter(id__in=ids).select_related("author")]


async def comment_count(post: Post) -> int:
    """Comments and replies up to the post's newest, not counting the placeholders of deleted ones."""
    return await post.comments.shown().public().filter(id__lte=post.newest_comment_id).acount()


async def thread_top(comment_id: int) -> Comment | None:
    """The top-level comment `comment_id` (a placeholder too, not one held or hidden), with its author and post."""
    comments = Comment.objects.public().filter(pk=comment_id, parent__isnull=True).select_related("author", "post")
    return await comments.afirst()


async def comment_to_answer(post: Post, comment_id: int) -> Comment | None:
    """The post's comment a reply form answers (published, not a placeholder), with its author."""
    return await post.comments.shown().public().filter(pk=comment_id).select_related("author").afirst()


def likeable_comment(comment_id: int, post: Post) -> Comment | None:
    """Sync: the post's comment if every reader sees it (published, not a placeholder): only those are liked."""
    return Comment.objects.shown().public().filter(pk=comment_id, post=post).first()


def comment_of_post(comment_id: int, post: Post, user: User) -> Comment | None:
    """Sync: the comment, with its author, if it belongs to `post` (not a deleted comment's placeholder)
    and `user` may know of it: published, or theirs, or they moderate (a held comment's number is no
    one else's business)."""
    comment = Comment.objects.shown().select_related("author").filter(pk=comment_id, post=post).first()
    if comment is None or comment.is_public or comment.author_id == user.pk:
        return comment
    return comment if moderation_policy.is_moderator(user) else None


def comments_missed(post_id: int, after: int, *, limit: int) -> list[Comment] | None:
    """Sync: the post's published comments newer than `after`, in id order; None when there are more than `limit`."""
    comments = list(Comment.objects.public().filter(post_id=post_id).after(after).for_display()[: limit + 1])
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
    """Sync: those of these comments of the post that still exist and readers may see, in id order."""
    return list(Comment.objects.public().filter(post_id=post_id, pk__in=ids).for_display())


def changes_of_post_by_id(post_id: int, ids: list[int]) -> list[CommentChange]:
    """Sync: these changes of the post, in id order."""
    return list(CommentChange.objects.filter(post_id=post_id, pk__in=ids).order_by("id"))


def changed_comments(changes: list[CommentChange]) -> dict[int, Comment]:
    """Sync: the current state, by id, of the comments these changes name (those still there: edited,
    published or hidden ones, and deleted ones left as placeholders), whatever their status."""
    ids = {change.comment_id for change in changes}
    return {comment.pk: comment for comment in Comment.objects.filter(pk__in=ids).select_related("author")}


def newest_public_comments(post: Post, *, limit: int) -> list[Comment]:
    """Sync (the feeds are sync views): the post's newest `limit` comments every reader sees, with their
    authors; never one held, hidden, rejected or under a hidden one, nor a deleted one's placeholder."""
    return list(post.comments.shown().public().select_related("author").order_by("-id")[:limit])

"""What a reader missed, as frames: new comments, and edits and deletions (read by blog/comments/selectors.py).

The socket's replay (?after=, ?changes_after=) and the hub's check against the
database both use these, so the two agree on what "missed" means. Old changes
are pruned (manage.py prune_comment_changes): a reader who last saw a change
from before what was pruned is told to resync, never handed the rest with a gap.

The readers are sync, run on the database thread (realtime/database_thread.py): a socket reads both
kinds in one hop (read_backlog); the hub reads what its check found missing by id. Sockets that
resume from the same point while that thread is busy (a restarted server's readers all come back
from the same comment) share one read (SharedBacklogReads).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

from blog.comments import selectors as comment_selectors
from blog.models import RESUME_LIMIT, CommentChange
from realtime import broadcast
from realtime.database_thread import on_database_thread

BACKLOG_LIMIT = RESUME_LIMIT


def read_comments_after(post_id: int, after: int) -> list[dict] | None:
    """comment.created events for comments newer than `after`, in id order; None when too many."""
    comments = comment_selectors.comments_missed(post_id, after, limit=BACKLOG_LIMIT)
    return None if comments is None else [broadcast.comment_created_event(comment) for comment in comments]


def read_changes_after(post_id: int, after: int) -> list[dict] | None:
    """The events of the changes newer than `after` (edits, deletions, and a moderator's publications
    and hidings); None when too many, or when some of them were pruned."""
    changes = comment_selectors.changes_missed(post_id, after, limit=BACKLOG_LIMIT)
    return None if changes is None else change_events(changes)


def change_events(changes: list[CommentChange]) -> list[dict]:
    current = comment_selectors.changed_comments(changes)
    events = []
    for change in changes:
        comment = current.get(change.comment_id)
        if change.kind == CommentChange.Kind.DELETED:
            # Still there: a placeholder now (and if it is removed later, a later change says so).
            events.append(broadcast.comment_deleted_event(change, placeholder=comment is not None))
        elif change.kind == CommentChange.Kind.HIDDEN:
            # Whatever came of it since, a later change says so.
            events.append(broadcast.comment_hidden_event(change))
        elif comment is None or comment.is_placeholder or not comment.is_public:
            continue  # deleted or hidden since: a later change says so
        elif change.kind == CommentChange.Kind.PUBLISHED:
            events.append(broadcast.comment_published_event(comment, change))
        else:
            events.append(broadcast.comment_updated_event(comment, change))
    return events


def read_comments_by_id(post_id: int, ids: list[int]) -> list[dict]:
    """comment.created events for these comments of the post that still exist, in id order (the hub's check)."""
    comments = comment_selectors.comments_of_post_by_id(post_id, ids)
    return [broadcast.comment_created_event(comment) for comment in comments]


def read_changes_by_id(post_id: int, ids: list[int]) -> list[dict]:
    """The events of these changes of the post, in id order (the hub's check)."""
    return change_events(comment_selectors.changes_of_post_by_id(post_id, ids))


def read_backlog(
    post_id: int, *, after: int | None, changes_after: int | None, shared: SharedRead | None = None
) -> dict[str, list[dict] | None]:
    """What a resuming socket asked for ("after", "changes_after"), each as its reader returns it.

    `shared` is marked started before the first query: from then on no socket may join it.
    """
    if shared is not None:
        shared.started = True
    missed: dict[str, list[dict] | None] = {}
    if after is not None:
        missed["after"] = read_comments_after(post_id, after)
    if changes_after is not None:
        missed["changes_after"] = read_changes_after(post_id, changes_after)
    return missed


class SharedRead:
    """One read in progress: its result, and whether its first query has run (set on the database thread)."""

    def __init__(self, run: Callable[[SharedRead], Awaitable[dict[str, list[dict] | None]]]) -> None:
        self.started = False
        self.result = asyncio.ensure_future(run(self))


class SharedBacklogReads:
    """One read on the database thread for the sockets that resume from the same point before it starts.

    A socket joins a read only if that read has not started when the socket asks, and a
    socket asks only after joining its post's group (the consumer). So every comment
    committed before the read's first query is in what it returns, and every one
    committed after reaches the socket live: nothing falls between the two for any of
    the sockets sharing it. The events are shared as read; no one changes them.
    """

    def __init__(self) -> None:
        self.waiting: dict[tuple[int, int | None, int | None], SharedRead] = {}

    async def read(self, post_id: int, *, after: int | None, changes_after: int | None) -> dict[str, list[dict] | None]:
        key = (post_id, after, changes_after)
        shared = self.waiting.get(key)
        if shared is None or shared.started:
            shared = self.waiting[key] = SharedRead(functools.partial(self.run, key))
        # A socket that leaves meanwhile does not cancel the others' read.
        return await asyncio.shield(shared.result)

    async def run(self, key: tuple[int, int | None, int | None], shared: SharedRead) -> dict[str, list[dict] | None]:
        post_id, after, changes_after = key
        try:
            read = on_database_thread(read_backlog)
            return await read(post_id, after=after, changes_after=changes_after, shared=shared)
        finally:
            if self.waiting.get(key) is shared:
                del self.waiting[key]

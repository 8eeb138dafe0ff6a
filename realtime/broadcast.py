"""Group names, and the one place that turns the blog's events into frames and sends them.

Each frame is encoded to JSON once here, not once per reader. The groups'
members are server processes (see realtime/hub.py), which forward the text
as it is to their own sockets.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import weakref
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.urls import reverse

from blog import events

if TYPE_CHECKING:
    from blog.models import Comment, CommentChange

logger = logging.getLogger(__name__)

BROADCAST_TIMEOUT_SECONDS = 2


def post_group_name(post_id: int) -> str:
    return f"post.{post_id}.comments"


def user_group_name(user_id: int) -> str:
    return f"user.{user_id}.sockets"


# The moderators' queue pages (realtime/moderation.py): every change to the queue.
MODERATION_GROUP = "moderation"

# Notifications for every user, in messages of up to NOTICES_PER_MESSAGE (about 300 bytes each).
NOTICES_GROUP = "notifications"
NOTICES_PER_MESSAGE = 200


def encode_frame(frame: dict[str, object]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def comment_created_event(comment: Comment) -> dict[str, object]:
    """The event readers of the post receive for a new comment (the author must be loaded)."""
    frame = encode_frame({"type": "comment.created", "comment": comment.as_json()})
    return {
        "type": "comment.created",
        "group": post_group_name(comment.post_id),
        "post": comment.post_id,
        "id": comment.pk,
        "frame": frame,
    }


def comment_created(comment: Comment) -> None:
    """Tell every reader of the post about a committed comment."""
    _group_send(comment_created_event(comment))


def comment_updated_event(comment: Comment, change: CommentChange) -> dict[str, object]:
    frame = encode_frame({"type": "comment.updated", "comment": comment.as_json(), "change": change.pk})
    return _change_event("comment.updated", change, frame)


def comment_deleted_event(change: CommentChange, *, placeholder: bool) -> dict[str, object]:
    """placeholder: the comment stays in its thread, text and author erased, holding its replies."""
    frame = encode_frame(
        {"type": "comment.deleted", "id": change.comment_id, "change": change.pk, "placeholder": placeholder}
    )
    return _change_event("comment.deleted", change, frame)


def _change_event(event_type: str, change: CommentChange, frame: str) -> dict[str, object]:
    return {
        "type": event_type,
        "group": post_group_name(change.post_id),
        "post": change.post_id,
        "id": change.comment_id,
        "change": change.pk,
        "frame": frame,
    }


def comment_updated(comment: Comment, change: CommentChange) -> None:
    """Tell every reader of the post about a committed edit."""
    _group_send(comment_updated_event(comment, change))


def comment_deleted(change: CommentChange, *, placeholder: bool) -> None:
    """Tell every reader of the post about a committed deletion."""
    _group_send(comment_deleted_event(change, placeholder=placeholder))


def comment_published_event(comment: Comment, change: CommentChange) -> dict[str, object]:
    """A comment a moderator published (approved, or restored): new to readers, so comment.created,
    numbered as a change, because its id may be older than comments they have."""
    frame = encode_frame({"type": "comment.created", "comment": comment.as_json(), "change": change.pk})
    return _change_event("comment.created", change, frame)


def comment_hidden_event(change: CommentChange) -> dict[str, object]:
    frame = encode_frame({"type": "comment.hidden", "id": change.comment_id, "change": change.pk})
    return _change_event("comment.hidden", change, frame)


def comment_likes_event(post_id: int, *, comment_id: int, likes: int, version: int) -> dict[str, object]:
    """One comment's new like count. Not a frame yet: each process's hub gathers a post's counts
    and sends its readers one comment.likes frame a second at most (realtime/likes.py)."""
    return {
        "type": "comment.likes",
        "group": post_group_name(post_id),
        "post": post_id,
        "id": comment_id,
        "likes": likes,
        "version": version,
    }


def comment_likes_frame(counts: dict[int, int]) -> dict[str, object]:
    """The frame of a post's like counts that changed, as the hub hands it to its sockets."""
    frame = encode_frame({"type": "comment.likes", "counts": {str(comment_id): n for comment_id, n in counts.items()}})
    return {"type": "comment.likes", "frame": frame}


def moderation_event(*, comment_id: int, item: dict | None, action: str | None, actor: str | None) -> dict:
    if item is not None:
        frame = {"type": "moderation.item", "item": item}
    else:
        frame = {"type": "moderation.resolved", "id": comment_id, "action": action, "by": actor}
    return {"type": "moderation.frame", "group": MODERATION_GROUP, "frame": encode_frame(frame)}


def presence_event(readers: int) -> dict[str, object]:
    return {"type": "presence", "frame": encode_frame({"type": "presence", "readers": readers})}


def resync_event() -> dict[str, object]:
    return {"type": "resync", "frame": encode_frame({"type": "resync"})}


def user_sessions_changed(*, user_id: int, reason: str) -> None:
    """Ask every socket of this user to re-check its session (after a logout or password change)."""
    _group_send({"type": "session.check", "group": user_group_name(user_id), "reason": reason})


def notice_frame(notice: events.Notice) -> str:
    if notice.notification is not None:
        frame = {"type": "notification", "notification": notice.notification, "unread": notice.unread}
    else:
        frame = {"type": "notifications.unread", "unread": notice.unread}
    return encode_frame(frame)


def notifications_changed(notices: tuple[events.Notice, ...]) -> None:
    """Tell every open page of each user: a new notification, or only their new unread count.

    A few messages to the one group every process's hub joins, not one per user: a comment on
    a post thousands follow would otherwise queue thousands of sends ahead of the next comment
    (the Outbox sends in order). Each hub hands each frame to its own sockets of that user.
    """
    frames = [[notice.user_id, notice_frame(notice)] for notice in notices]
    for start in range(0, len(frames), NOTICES_PER_MESSAGE):
        _group_send(
            {"type": "user.frames", "group": NOTICES_GROUP, "frames": frames[start : start + NOTICES_PER_MESSAGE]}
        )


def post_changed(post_id: int, *, published: bool, deleted: bool) -> None:
    """Ask every socket of the post to re-check that its user may still see it."""
    event = {"type": "post.changed", "group": post_group_name(post_id), "post": post_id}
    _group_send({**event, "published": published, "deleted": deleted})


def post_revised(post_id: int, *, revision_id: int, revised: datetime) -> None:
    """Tell the post's readers that its text changed, and where to see how."""
    frame = {
        "type": "post.revised",
        "revised": revised.isoformat(),
        "changes_url": reverse("blog:post_change", args=[post_id, revision_id]),
    }
    _group_send({"type": "post.revised", "group": post_group_name(post_id), "frame": encode_frame(frame)})


def send_event(event: events.Event) -> None:
    """The blog's events, as broadcasts (subscribed in realtime/apps.py)."""
    match event:
        case events.CommentCreated(comment=comment):
            comment_created(comment)
        case events.CommentUpdated(comment=comment, change=change):
            comment_updated(comment, change)
        case events.CommentDeleted(change=change, placeholder=placeholder):
            comment_deleted(change, placeholder=placeholder)
        case events.CommentPublished(comment=comment, change=change):
            _group_send(comment_published_event(comment, change))
        case events.CommentHidden(change=change):
            _group_send(comment_hidden_event(change))
        case events.CommentLikesChanged(post_id=post_id, comment_id=comment_id, likes=likes, version=version):
            _group_send(comment_likes_event(post_id, comment_id=comment_id, likes=likes, version=version))
        case events.ModerationChanged(comment_id=comment_id, item=item, action=action, actor=actor):
            _group_send(moderation_event(comment_id=comment_id, item=item, action=action, actor=actor))
        case events.PostChanged(post_id=post_id, published=published, deleted=deleted):
            post_changed(post_id, published=published, deleted=deleted)
        case events.PostRevised(post_id=post_id, revision_id=revision_id, revised=revised):
            post_revised(post_id, revision_id=revision_id, revised=revised)
        case events.UserSessionsChanged(user_id=user_id, reason=reason):
            user_sessions_changed(user_id=user_id, reason=reason)
        case events.NotificationsChanged(notices=notices):
            notifications_changed(notices)


def _group_send(event: dict[str, object]) -> None:
    # The database already holds the change; a layer outage must not turn a
    # saved comment into an error for its author, nor make them wait. Readers
    # catch up from the database (realtime/hub.py) instead.
    loop = serving_loop()
    if loop is not None:
        try:
            Outbox.of(loop).put(event)
            return
        except RuntimeError:
            pass  # the loop closed meanwhile (a server shutting down): sent from here instead
    try:
        async_to_sync(_send)(event)
    except Exception:
        logger.exception("broadcast failed group=%s type=%s", event["group"], event["type"])


def serving_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop this thread works for (a sync_to_async thread of the server), if any."""
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    if loop.is_closed() or not loop.is_running():
        return None
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return loop
    return None  # called in a loop's own thread: async_to_sync refuses, as it should


class Outbox:
    """An event loop's broadcasts, sent in the order they were saved, without holding the thread that saved them.

    Sending from the database thread with async_to_sync would keep that thread,
    which every socket's database work shares, waiting for the event loop to send
    each broadcast: a busy loop (thousands of readers being handed a comment) then
    slows every save, one after another. Here the thread hands the event over and
    goes on; one task of the loop sends them, oldest first, so the order holds.
    While the layer is down each send waits out BROADCAST_TIMEOUT_SECONDS, so the
    broadcasts queue here, at the pace comments are saved; the hubs' database check
    delivers what they carried meanwhile.
    """

    _of_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Outbox] = weakref.WeakKeyDictionary()
    _of_loop_lock = threading.Lock()

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: deque[dict[str, object]] = deque()
        self.sending: asyncio.Task | None = None

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> Outbox:
        with cls._of_loop_lock:  # two threads must not start two outboxes: the order would not hold
            outbox = cls._of_loop.get(loop)
            if outbox is None:
                outbox = cls._of_loop[loop] = cls(loop)
            return outbox

    def put(self, event: dict[str, object]) -> None:
        """From any thread."""
        self.loop.call_soon_threadsafe(self.append, event)

    def append(self, event: dict[str, object]) -> None:
        self.waiting.append(event)
        if self.sending is None:
            self.sending = self.loop.create_task(self.send_waiting())

    async def send_waiting(self) -> None:
        try:
            while self.waiting:
                event = self.waiting.popleft()
                try:
                    await _send(event)
                except Exception:
                    logger.exception("broadcast failed group=%s type=%s", event["group"], event["type"])
        finally:
            self.sending = None


async def _send(event: dict[str, object]) -> None:
    layer = get_channel_layer()
    await asyncio.wait_for(layer.group_send(event["group"], event), timeout=BROADCAST_TIMEOUT_SECONDS)

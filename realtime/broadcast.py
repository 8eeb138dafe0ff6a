"""Group names, and the one place that turns the blog's events into frames and sends them.

Each frame is encoded to JSON once here, not once per reader. The groups'
members are server processes (see realtime/hub.py), which forward the text
as it is to their own sockets.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from blog import events

if TYPE_CHECKING:
    from blog.models import Comment, CommentChange

logger = logging.getLogger(__name__)

BROADCAST_TIMEOUT_SECONDS = 2


def post_group_name(post_id: int) -> str:
    return f"post.{post_id}.comments"


def user_group_name(user_id: int) -> str:
    return f"user.{user_id}.sockets"


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


def comment_deleted_event(change: CommentChange) -> dict[str, object]:
    frame = encode_frame({"type": "comment.deleted", "id": change.comment_id, "change": change.pk})
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


def comment_deleted(change: CommentChange) -> None:
    """Tell every reader of the post about a committed deletion."""
    _group_send(comment_deleted_event(change))


def presence_event(readers: int) -> dict[str, object]:
    return {"type": "presence", "frame": encode_frame({"type": "presence", "readers": readers})}


def resync_event() -> dict[str, object]:
    return {"type": "resync", "frame": encode_frame({"type": "resync"})}


def user_sessions_changed(*, user_id: int, reason: str) -> None:
    """Ask every socket of this user to re-check its session (after a logout or password change)."""
    _group_send({"type": "session.check", "group": user_group_name(user_id), "reason": reason})


def post_changed(post_id: int, *, published: bool, deleted: bool) -> None:
    """Ask every socket of the post to re-check that its user may still see it."""
    event = {"type": "post.changed", "group": post_group_name(post_id), "post": post_id}
    _group_send({**event, "published": published, "deleted": deleted})


def send_event(event: events.Event) -> None:
    """The blog's events, as broadcasts (subscribed in realtime/apps.py)."""
    match event:
        case events.CommentCreated(comment=comment):
            comment_created(comment)
        case events.CommentUpdated(comment=comment, change=change):
            comment_updated(comment, change)
        case events.CommentDeleted(change=change):
            comment_deleted(change)
        case events.PostChanged(post_id=post_id, published=published, deleted=deleted):
            post_changed(post_id, published=published, deleted=deleted)
        case events.UserSessionsChanged(user_id=user_id, reason=reason):
            user_sessions_changed(user_id=user_id, reason=reason)


def _group_send(event: dict[str, object]) -> None:
    # The database already holds the change; a layer outage must not turn a
    # saved comment into an error for its author, nor make them wait. Readers
    # catch up from the database (realtime/hub.py) instead.
    try:
        async_to_sync(_send)(event)
    except Exception:
        logger.exception("broadcast failed group=%s type=%s", event["group"], event["type"])


async def _send(event: dict[str, object]) -> None:
    layer = get_channel_layer()
    await asyncio.wait_for(layer.group_send(event["group"], event), timeout=BROADCAST_TIMEOUT_SECONDS)

"""Group names, and the one place that turns a saved comment into a frame and sends it.

Each frame is encoded to JSON once here, not once per reader: consumers
forward the text as it is.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

if TYPE_CHECKING:
    from blog.models import Comment

logger = logging.getLogger(__name__)


def post_group_name(post_id: int) -> str:
    return f"post.{post_id}.comments"


def user_group_name(user_id: int) -> str:
    return f"user.{user_id}.sockets"


def encode_frame(frame: dict[str, object]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def comment_created_frame(comment: Comment) -> str:
    return encode_frame({"type": "comment.created", "comment": comment.as_json()})


def comment_created(comment: Comment) -> None:
    """Tell every reader of the post about a committed comment."""
    message = {"type": "comment.created", "id": comment.pk, "frame": comment_created_frame(comment)}
    _group_send(post_group_name(comment.post_id), message)


def comment_deleted(*, post_id: int, comment_id: int) -> None:
    frame = encode_frame({"type": "comment.deleted", "id": comment_id})
    _group_send(post_group_name(post_id), {"type": "comment.deleted", "id": comment_id, "frame": frame})


def user_sessions_changed(*, user_id: int, reason: str) -> None:
    """Ask every socket of this user to re-check its session (after a logout or password change)."""
    _group_send(user_group_name(user_id), {"type": "session.check", "reason": reason})


def _group_send(group: str, message: dict[str, object]) -> None:
    # The database already holds the change; a layer outage must not turn a
    # saved comment into an error for its author. Readers catch up on reconnect.
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        logger.exception("broadcast failed group=%s type=%s", group, message["type"])

"""Like counts for a post's readers: at most one comment.likes frame per post a second, however many likes come.

Each like is sent to the post's group when it commits (realtime/broadcast.py), from whichever
process saved it, and each process's hub hands it here rather than to its sockets. Per post,
this keeps the newest count of every comment liked since the post's last frame, and sends that
process's readers of the post one frame with all of them: at once when the last one went a
second ago or more, else when that second is up. So a burst of likes costs each reader two
frames, the first like's and the rest's, and readers have the final counts within a second.

Batching where the frames are sent, not where the likes are saved, holds the rate for every
socket whatever the number of processes saving likes, with no shared clock or lock between
them. "Newest" is by the post's likes version, which grows in commit order (blog/comments/likes.py):
a count that reaches this process late, from another one, never replaces a newer count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from realtime import broadcast

if TYPE_CHECKING:
    from realtime.hub import Hub

logger = logging.getLogger(__name__)

# The shortest time between two comment.likes frames of one post, for any socket.
FRAME_SECONDS = 1.0


class LikeCounts:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        # post id -> comment id -> its newest count not sent yet
        self.pending: dict[int, dict[int, int]] = {}
        # post id -> comment id -> the likes version of the newest count heard (sent or pending)
        self.versions: dict[int, dict[int, int]] = {}
        # post id -> when its last frame went (time.monotonic())
        self.sent_at: dict[int, float] = {}
        # post id -> the task that sends its next frame when its second is up
        self.due: dict[int, asyncio.Task] = {}

    async def record(self, event: dict) -> None:
        """A like or unlike from the layer: kept for the post's next frame, which goes now if it may."""
        post_id, comment_id, version = event["post"], event["id"], event["version"]
        heard = self.versions.setdefault(post_id, {})
        if heard.get(comment_id, -1) >= version:
            return  # older than a count already heard
        heard[comment_id] = version
        self.pending.setdefault(post_id, {})[comment_id] = event["likes"]
        if post_id in self.due:
            return  # goes with the frame already planned
        wait = self.sent_at.get(post_id, float("-inf")) + FRAME_SECONDS - time.monotonic()
        if wait <= 0:
            await self.send(post_id)
        else:
            self.due[post_id] = asyncio.create_task(self.send_later(post_id, wait), name=f"likes of post {post_id}")

    async def send_later(self, post_id: int, wait: float) -> None:
        await asyncio.sleep(wait)
        self.due.pop(post_id, None)
        try:
            await self.send(post_id)
        except Exception:
            logger.exception("like counts not sent post=%s", post_id)

    async def send(self, post_id: int) -> None:
        counts = self.pending.pop(post_id, None)
        if not counts:
            return
        self.sent_at[post_id] = time.monotonic()
        await self.hub.hand_on(broadcast.post_group_name(post_id), broadcast.comment_likes_frame(counts))

    def forget(self, post_id: int) -> None:
        """The last reader of the post here left: nothing to send, nothing to remember."""
        task = self.due.pop(post_id, None)
        if task is not None:
            task.cancel()
        for kept in (self.pending, self.versions, self.sent_at):
            kept.pop(post_id, None)

    def stop(self) -> None:
        for post_id in list(self.due):
            self.forget(post_id)

"""How many people are reading a post now, across every server process.

Each process reports its own count of readers per post to the post's group
when it changes (at most once a second) and every HEARTBEAT_SECONDS; each
process adds up the latest reports of the others, forgetting a process that
has not reported for EXPIRY_SECONDS (it stopped), and tells its readers when
the total changes.
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

TICK_SECONDS = 1
HEARTBEAT_SECONDS = 30
EXPIRY_SECONDS = 75
READERS_PER_ANNOUNCEMENT_SECOND = 1000


class Presence:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        # post id -> {process channel: (readers, reported at)} from the other processes
        self.elsewhere: dict[int, dict[str, tuple[int, float]]] = {}
        # post id -> (readers, reported at) that this process last reported
        self.reported: dict[int, tuple[int, float]] = {}
        # post id -> the total this process's readers were last told, and when
        self.announced: dict[int, int] = {}
        self.announced_at: dict[int, float] = {}

    def total(self, post_id: int) -> int:
        now = time.monotonic()
        others = self.elsewhere.get(post_id, {})
        for process, (_, seen) in list(others.items()):
            if now - seen > EXPIRY_SECONDS:
                del others[process]
        return self.hub.readers_here(post_id) + sum(readers for readers, _ in others.values())

    def record(self, event: dict) -> None:
        if event["process"] == self.hub.channel_name:
            return
        others = self.elsewhere.setdefault(event["post"], {})
        if event["process"] not in others and event["post"] in self.reported:
            # A process we had not heard from: let it hear from us soon, too.
            self.reported[event["post"]] = (self.reported[event["post"]][0], 0.0)
        others[event["process"]] = (event["readers"], time.monotonic())

    async def report_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("presence tick failed")

    async def tick(self) -> None:
        now = time.monotonic()
        posts = set(self.reported) | {
            post_id for post_id in self.hub.watched_from["comment"] if self.hub.readers_here(post_id)
        }
        for post_id in posts:
            here = self.hub.readers_here(post_id)
            last, at = self.reported.get(post_id, (None, 0.0))
            if here != last or now - at > HEARTBEAT_SECONDS:
                await self.report(post_id, here)
            if here == 0:
                # Reported the departure; nothing more to say about this post.
                self.reported.pop(post_id, None)
                self.elsewhere.pop(post_id, None)
                self.announced.pop(post_id, None)
                self.announced_at.pop(post_id, None)
                continue
            total = self.total(post_id)
            if self.announced.get(post_id) != total and self.announcement_due(post_id, here, now):
                self.announced[post_id] = total
                self.announced_at[post_id] = now
                await self.hub.hand_on(broadcast.post_group_name(post_id), broadcast.presence_event(total))

    def announcement_due(self, post_id: int, here: int, now: float) -> bool:
        """A count for every reader costs a frame per reader: on a popular post, say it less often.

        One announcement a second per READERS_PER_ANNOUNCEMENT_SECOND readers here, so that
        readers arriving in a crowd cost at most about that many presence frames a second.
        """
        interval = TICK_SECONDS * max(1, here / READERS_PER_ANNOUNCEMENT_SECOND)
        return now - self.announced_at.get(post_id, float("-inf")) >= interval

    async def report(self, post_id: int, readers: int) -> None:
        self.reported[post_id] = (readers, time.monotonic())
        event = {
            "type": "presence.report",
            "group": broadcast.post_group_name(post_id),
            "post": post_id,
            "process": self.hub.channel_name,
            "readers": readers,
        }
        try:
            await asyncio.wait_for(self.hub.layer.group_send(event["group"], event), timeout=2)
        except Exception as error:
            logger.info("presence report failed post=%s error=%r", post_id, error)

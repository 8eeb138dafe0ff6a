"""Fan-out for one server process: one channel-layer subscription per post, not per socket.

A broadcast goes to a group whose members are server processes. Each
process's hub receives the event once, already encoded, and hands it to each
of its sockets for that post (the consumers, which still own their
connections and decide what to send). So a comment costs one layer message
per process, not one per reader, and a reader that stops reading delays
nobody: daphne buffers what it has not read yet.

The channel layer delivers at most once, so the hub also keeps its sockets
true to the database:
- every few seconds it compares the newest comment and change ids of each of
  its posts in the database (one short index scan per post) with those it
  handed on, and hands on anything the layer lost (a full channel, Redis down
  or restarted, a broadcast that failed), gaps below the newest included; its
  database calls go through realtime/database_thread.py, which drops a
  connection that died (a PostgreSQL restart) before each call;
- it re-joins its groups when Redis restarts (it forgets them) and every
  REJOIN_SECONDS in any case.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import defaultdict, deque
from typing import Protocol

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.db.models import QuerySet

from blog.models import Comment, CommentChange
from realtime import backlog, broadcast
from realtime.database_thread import on_database_thread
from realtime.likes import LikeCounts
from realtime.presence import Presence

logger = logging.getLogger(__name__)

CHECK_SECONDS = 3
REJOIN_SECONDS = 30
LAYER_TIMEOUT_SECONDS = 2
RETRY_MIN_SECONDS = 0.1
RETRY_MAX_SECONDS = 5
REJOIN_ATTEMPTS = 5
# Per post: more than a catch-up can hand on at once (backlog.RESUME_LIMIT), so an overlap is always seen.
RECENT_KEPT = 1000
# What the hub keeps true per post: the kind, its table, and how to read what was missed.
TRACKED = (("comment", Comment, backlog.read_comments_by_id), ("change", CommentChange, backlog.read_changes_by_id))
MODELS = {kind: model for kind, model, _ in TRACKED}
# How many of each post's newest ids the database check compares with those handed on.
CHECKED = 100


class RecentNumbers:
    """The last RECENT_KEPT comment (or change) numbers of one post, to hand each on once."""

    def __init__(self) -> None:
        self.order: deque[int] = deque()
        self.members: set[int] = set()
        self.newest = 0

    def __contains__(self, number: int) -> bool:
        return number in self.members

    def extend(self, numbers: list[int]) -> None:
        for number in numbers:
            self.add(number)

    def add(self, number: int) -> bool:
        """Remember the number; False when it was already there."""
        if number in self.members:
            return False
        self.members.add(number)
        self.order.append(number)
        self.newest = max(self.newest, number)
        if len(self.order) > RECENT_KEPT:
            self.members.discard(self.order.popleft())
        return True


class Listener(Protocol):
    async def deliver(self, event: dict) -> None: ...


class UserNotices:
    """The hub's listener of the notifications group: each frame to this process's sockets of its user."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def deliver(self, event: dict) -> None:
        for user_id, frame in event["frames"]:
            group = broadcast.user_group_name(user_id)
            if group in self.hub.listeners:
                await self.hub.hand_on(group, {"type": "user.frame", "frame": frame})


class Hub:
    def __init__(self, layer: BaseChannelLayer) -> None:
        self.layer = layer
        self.channel_name = ""
        self.listeners: dict[str, set[Listener]] = defaultdict(set)
        self.joins: dict[str, asyncio.Future] = {}
        # "comment" / "change" -> post id -> the newest id of that kind when this process began to
        # watch the post: older ones reached its readers with their page or their replay.
        self.watched_from: dict[str, dict[int, int]] = {kind: {} for kind, _, _ in TRACKED}
        # "comment" / "change" -> post id -> the numbers handed on lately.
        self.handed_on: dict[str, defaultdict[int, RecentNumbers]] = {
            kind: defaultdict(RecentNumbers) for kind, _, _ in TRACKED
        }
        self.presence = Presence(self)
        # Like counts go to readers batched, at most a frame per post a second (realtime/likes.py).
        self.likes = LikeCounts(self)
        self.notices = UserNotices(self)
        self.backlog_reads = backlog.SharedBacklogReads()
        self.redis_watch = RedisRestartWatch(settings.REDIS_URL) if settings.REDIS_URL else None
        # Set when a group may be missing from the layer (an outage, a Redis restart).
        self.rejoin_needed = False
        self.started: asyncio.Future | None = None
        self.tasks: list[asyncio.Task] = []

    # Membership

    async def join_post(self, post_id: int, listener: Listener) -> None:
        """Subscribe; when this returns, every later broadcast for the post reaches the listener."""
        await self.join(broadcast.post_group_name(post_id), listener, post_id=post_id)

    async def leave_post(self, post_id: int, listener: Listener) -> None:
        await self.leave(broadcast.post_group_name(post_id), listener)
        if not self.readers_here(post_id):
            for kind, _, _ in TRACKED:
                self.watched_from[kind].pop(post_id, None)
                self.handed_on[kind].pop(post_id, None)
            self.likes.forget(post_id)

    async def join_user(self, user_id: int, listener: Listener) -> None:
        """Subscribe to the user's session events and notifications (which come for all users at once)."""
        await self.join(broadcast.NOTICES_GROUP, self.notices)
        await self.join(broadcast.user_group_name(user_id), listener)

    async def leave_user(self, user_id: int, listener: Listener) -> None:
        await self.leave(broadcast.user_group_name(user_id), listener)

    def hands_on_everything_after(self, post_id: int, kind: str, number: int) -> bool:
        """Whether every comment (or change) of the post numbered above `number` is still to be handed on here.

        True when this process has watched the post since `number` or before and has handed on
        nothing newer: whatever the database holds above it reaches a socket that has joined
        the post live (from the layer, or from the database check when the layer lost it),
        so that socket's resume needs no read of its own.
        """
        watched_from = self.watched_from[kind].get(post_id)
        if watched_from is None:
            return False
        recent = self.handed_on[kind].get(post_id)
        return number >= max(watched_from, recent.newest if recent is not None else 0)

    def readers_here(self, post_id: int) -> int:
        return len(self.listeners.get(broadcast.post_group_name(post_id), ()))

    async def join(self, group: str, listener: Listener, post_id: int | None = None) -> None:
        await self.start()
        self.listeners[group].add(listener)
        if group not in self.joins:
            self.joins[group] = asyncio.ensure_future(self.first_join(group, post_id))
        await asyncio.shield(self.joins[group])

    async def first_join(self, group: str, post_id: int | None) -> None:
        await self.group_add(group)
        if post_id is not None:
            for kind, model, _ in TRACKED:
                self.watched_from[kind].setdefault(post_id, await on_database_thread(newest_id)(model, post_id))

    async def leave(self, group: str, listener: Listener) -> None:
        members = self.listeners.get(group)
        if members is None:
            return
        members.discard(listener)
        if members:
            return
        del self.listeners[group]
        self.joins.pop(group, None)
        try:
            await asyncio.wait_for(self.layer.group_discard(group, self.channel_name), LAYER_TIMEOUT_SECONDS)
        except Exception as error:  # the group expires on its own
            logger.info("channel layer group_discard failed group=%s error=%r", group, error)

    async def group_add(self, group: str) -> bool:
        try:
            await asyncio.wait_for(self.layer.group_add(group, self.channel_name), LAYER_TIMEOUT_SECONDS)
        except Exception as error:
            # Readers still get comments through the database check; the group is re-joined later.
            logger.warning("channel layer group_add failed group=%s error=%r", group, error)
            self.rejoin_needed = True
            return False
        return True

    # Running

    async def start(self) -> None:
        if self.started is None:
            self.started = asyncio.ensure_future(self.start_tasks())
        await asyncio.shield(self.started)

    async def start_tasks(self) -> None:
        self.channel_name = await self.layer.new_channel("hub")
        if self.redis_watch is not None:
            await self.redis_watch.restarted()  # learn the run_id to compare with
        for work in (self.receive_forever, self.check_forever, self.presence.report_forever):
            self.tasks.append(asyncio.create_task(work(), name=f"hub {work.__name__}"))

    async def stop(self) -> None:
        self.likes.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()

    async def receive_forever(self) -> None:
        delay = RETRY_MIN_SECONDS
        while True:
            try:
                event = await self.layer.receive(self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("channel layer receive failed, retrying in %.1fs error=%r", delay, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            delay = RETRY_MIN_SECONDS
            await self.dispatch(event)

    async def dispatch(self, event: dict) -> None:
        if event["type"] == "presence.report":
            self.presence.record(event)
            return
        if event["type"] == "comment.likes":
            await self.likes.record(event)
            return
        if "change" in event:
            kind, number = "change", event["change"]
            if event["type"] == "comment.created":
                # Published by a moderator (approved or restored): handed on as a change, and from
                # now on as a comment too, so that the comment check does not send it again.
                self.handed_on["comment"][event["post"]].add(event["id"])
        elif event["type"] == "comment.created":
            kind, number = "comment", event["id"]
        else:
            await self.hand_on(event["group"], event)
            return
        # The layer and the database check overlap: each comment and change is handed on once
        # per process, so the sockets need not each remember what they were sent.
        if not self.handed_on[kind][event["post"]].add(number):
            return
        await self.hand_on(event["group"], event)

    async def hand_on(self, group: str, event: dict) -> None:
        for listener in tuple(self.listeners.get(group, ())):
            try:
                await listener.deliver(event)
            except Exception:
                logger.exception("delivery to a socket failed group=%s type=%s", group, event["type"])

    # Keeping true to the database

    async def check_forever(self) -> None:
        last_rejoin = time.monotonic()
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            try:
                if self.redis_watch is not None and await self.redis_watch.restarted():
                    logger.warning("redis restarted or came back: re-joining %d groups", len(self.listeners))
                    self.rejoin_needed = True
                if self.rejoin_needed or time.monotonic() - last_rejoin > REJOIN_SECONDS:
                    await self.rejoin()
                    last_rejoin = time.monotonic()
                await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("hub check failed")

    async def rejoin(self) -> None:
        self.rejoin_needed = False
        for group in list(self.listeners):
            # After a restart the pool still holds dead connections; each failure discards one.
            for _ in range(REJOIN_ATTEMPTS):
                if await self.group_add(group):
                    self.rejoin_needed = False
                    break
                await asyncio.sleep(RETRY_MIN_SECONDS)
            else:
                return  # still down: try again at the next check

    async def catch_up(self) -> None:
        """Hand on comments, edits and deletions the database has and the layer did not deliver.

        Not only those newer than the newest handed on: a broadcast lost between two that
        arrived leaves a gap below it. So the newest CHECKED ids of each watched post are
        compared with the ids handed on lately, and whatever is missing is read and handed on.
        """
        post_ids = [post_id for post_id in self.watched_from["comment"] if self.readers_here(post_id)]
        if not post_ids:
            return
        for kind, _, read_by_id in TRACKED:
            floors = {post_id: self.watched_from[kind].get(post_id, 0) for post_id in post_ids}
            for post_id, ids in (await on_database_thread(recent_ids)(kind, floors)).items():
                missing = [number for number in ids if number not in self.handed_on[kind][post_id]]
                if not missing:
                    continue
                logger.info("catching up post=%s kind=%s missed=%s", post_id, kind, len(missing))
                if len(missing) == CHECKED:
                    # Perhaps more than the check sees: the readers reload the list instead.
                    await self.hand_on(broadcast.post_group_name(post_id), broadcast.resync_event())
                    self.handed_on[kind][post_id].extend(missing)
                    continue
                for event in await on_database_thread(read_by_id)(post_id, missing):
                    await self.dispatch(event)
                # Dealt with, read or not: one readers may not see (a reply under a hidden comment)
                # is not read again at every check; if a moderator publishes it, a change says so.
                self.handed_on[kind][post_id].extend(missing)


def newest_query(model: type[Comment | CommentChange], post_id: int) -> QuerySet:
    # A backward scan of the (post, id) index. A GROUP BY post_id over several posts
    # instead reads every row those posts have.
    rows = model.objects.filter(post_id=post_id)
    if model is Comment:
        # Readers get published comments only; one published later by a moderator comes as a change.
        # (A reply under a hidden comment is read by id and found not public: see catch_up.)
        rows = rows.filter(status=Comment.Status.PUBLISHED)
    return rows.order_by("-id").values_list("id", flat=True)


def newest_id(model: type[Comment | CommentChange], post_id: int) -> int:
    return newest_query(model, post_id).first() or 0


def recent_ids(kind: str, floors: dict[int, int]) -> dict[int, list[int]]:
    """Sync: the newest CHECKED ids of each post's comments (or changes) above its floor, one index scan each."""
    model = MODELS[kind]
    return {
        post_id: list(newest_query(model, post_id).filter(id__gt=floor)[:CHECKED]) for post_id, floor in floors.items()
    }


class RedisRestartWatch:
    """Notices a Redis server that restarted (and so forgot every group) by its run_id."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = None
        self.run_id: str | None = None
        self.reachable = True

    async def restarted(self) -> bool:
        import redis.asyncio as redis_asyncio

        if self.client is None:
            self.client = redis_asyncio.Redis.from_url(self.url, socket_timeout=LAYER_TIMEOUT_SECONDS)
        try:
            run_id = (await self.client.info("server"))["run_id"]
        except Exception:
            if self.reachable:
                logger.warning("redis unreachable: comments reach readers through the database until it is back")
            self.reachable = False
            return False
        came_back = not self.reachable
        self.reachable = True
        changed = self.run_id is not None and run_id != self.run_id
        self.run_id = run_id
        return changed or came_back


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """The hub of this process (of this event loop, which tests change per test)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(get_channel_layer())
    return hub


async def stop_hub() -> None:
    hub = _hubs.pop(asyncio.get_running_loop(), None)
    if hub is not None:
        await hub.stop()

"""/ws/moderation/: the moderation queue, kept live for every moderator's open queue page.

Only moderators (blog.moderate_comment, blog/moderation/policy.py) get in; anyone
else is refused before accept, which daphne answers with 403, as the bell's socket
refuses anonymous users. The socket joins the hub's "moderation" group before it
reads the queue, so a comment held, flagged or decided meanwhile is not lost: its
frame waits until hello has gone out, then follows it. Every frame is the one
realtime/broadcast.py encoded once for all moderators. The session rules are the
bell's socket's (realtime/notifications.py): when the session ends there is nothing
left to show, so it closes with 4401. It reads nothing from the client but pongs.
"""

from __future__ import annotations

import asyncio
import logging

from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth.models import AnonymousUser

from blog.models import User
from blog.moderation import policy
from blog.moderation import selectors as moderation_selectors
from realtime import broadcast
from realtime.admission import HANDSHAKE_SCOPE_KEY, Handshake, HandshakeTooLate, check_in_time
from realtime.caps import SocketSlot, socket_cap
from realtime.consumers import CLOSE_TOO_MANY_SOCKETS, client_address
from realtime.database_thread import on_database_thread
from realtime.heartbeat import CLOSE_TOO_SLOW, Heartbeat
from realtime.hub import get_hub
from realtime.session_gate import CLOSE_SESSION_ENDED, SessionGate
from realtime.socket_basics import ListeningSocket

logger = logging.getLogger(__name__)


class ModerationConsumer(ListeningSocket, SessionGate, AsyncWebsocketConsumer):
    # No channel of its own: the process's hub hands on the moderation group's events.
    channel_layer_alias = None

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.user_id = self.user.pk  # for the log, after the session ends too
        self.joined_user_id: int | None = None
        self.joined_queue = False
        self.background: list[asyncio.Task] = []
        handshake = self.scope.get(HANDSHAKE_SCOPE_KEY)
        try:
            allowed = self.user.is_authenticated and await on_database_thread(moderator_in_time)(self.user, handshake)
        except HandshakeTooLate:
            logger.info("websocket refused reason=handshake-too-late path=%s", self.scope["path"])
            await self.close()
            return
        if not allowed:
            logger.info("websocket refused reason=not-a-moderator path=%s user=%s", self.scope["path"], self.user_id)
            await self.close()  # before accept: daphne answers the handshake with 403
            return
        self.session_key = self.scope["session"].session_key
        self.slot = SocketSlot(socket_cap(self.user, client_address(self.scope)))
        renew = self.slot.renew if self.slot.cap is not None else None
        self.heartbeat = Heartbeat(send=self.send_unchecked, close=self.close_too_slow, tick=renew)
        self.hub = get_hub()
        # Frames that come before hello wait here: the page draws the queue from hello first.
        self.held: list[str] | None = []
        if not await self.slot.take():
            logger.info("websocket refused reason=too-many-sockets moderation user=%s", self.user.pk)
            await self.accept()
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        try:
            # Logout, a new password and deactivation are announced to the user's group.
            self.joined_user_id = self.user.pk
            await self.hub.join_user(self.user.pk, self)
            # Joined before the queue is read: a change made meanwhile is in the queue read,
            # or comes live after hello, or both (an entry sent twice replaces itself).
            self.joined_queue = True
            await self.hub.join(broadcast.MODERATION_GROUP, self)
            items = await on_database_thread(queue_in_time)(handshake)
        except HandshakeTooLate:
            logger.info("websocket refused reason=handshake-too-late path=%s", self.scope["path"])
            await self.leave_groups()
            await self.slot.release()
            await self.close()
            return
        except BaseException:
            await self.leave_groups()
            await self.slot.release()
            raise
        try:
            self.run_in_background(self.end_session_at_expiry(self.scope.get("session_expires_at")))
            await self.accept()
            self.heartbeat.start()
            logger.info("websocket connected moderation user=%s items=%s", self.user.pk, len(items))
            await self.send_json({"type": "hello", "user": self.user.get_username(), "items": items})
            while self.held:
                await self.send(text_data=self.held.pop(0))
            self.held = None  # no await since the loop's last check: nothing can slip in
        except BaseException:
            for task in self.background:
                task.cancel()
            await self.leave_groups()
            await self.slot.release()
            raise

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "heartbeat"):
            return  # refused before anything was taken
        self.heartbeat.stop()
        await self.slot.release()
        await self.leave_groups()
        for task in self.background:
            task.cancel()
        logger.info("websocket disconnected moderation user=%s code=%s", self.user_id, code)

    async def leave_groups(self) -> None:
        if self.joined_queue:
            self.joined_queue = False
            await self.hub.leave(broadcast.MODERATION_GROUP, self)
        await self.leave_user_group()

    async def deliver(self, event: dict) -> None:
        if event["type"] == "session.check":
            self.run_in_background(self.session_check(event["reason"]))
        elif event["type"] == "moderation.frame":
            if self.held is not None:
                self.held.append(event["frame"])
            else:
                await self.send(text_data=event["frame"])
        # The user's notifications ("user.frame") are the bell's: its own socket on this page carries them.

    async def end_session(self, reason: str) -> bool:
        """The session ended: the queue is for moderators only, so nothing more is sent and the socket closes."""
        if not self.user.is_authenticated:
            return False  # a check running alongside already ended it
        # Anonymous before the first await, so that a check alongside does not end it twice.
        user, self.user = self.user, AnonymousUser()
        logger.info("websocket session ended moderation user=%s reason=%s", user.pk, reason)
        await self.leave_groups()
        await self.send_json({"type": "session.ended"})
        await self.close(code=CLOSE_SESSION_ENDED)
        return False

    async def close_too_slow(self, reason: str) -> None:
        logger.info("websocket closed reason=too-slow moderation user=%s %s", self.user_id, reason)
        await self.close(code=CLOSE_TOO_SLOW)


def moderator_in_time(user: User, handshake: Handshake | None) -> bool:
    """Sync, on the database thread: nothing for a handshake already too late, else whether the user moderates."""
    check_in_time(handshake)
    return policy.is_moderator(user)


def queue_in_time(handshake: Handshake | None) -> list[dict[str, object]]:
    """Sync, on the database thread: the queue's entries, oldest first, unless the handshake is already too late."""
    check_in_time(handshake)
    return moderation_selectors.queue_items()

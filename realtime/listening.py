"""The sockets a page only listens on: the bell's (/ws/notifications/) and the moderation queue's (/ws/moderation/).

Both live the same life, written here once. Whoever may not listen is refused before
accept, which daphne answers with 403. The socket takes a slot under the per-user cap,
then joins its groups in the process's hub BEFORE it reads what its hello says, so that
nothing made meanwhile falls between the two: a frame that arrives before hello waits,
then follows it. Every frame passes the heartbeat. When the session ends (logout anywhere,
a new password, deactivation, expiry) there is nothing left to show: `session.ended`, then
close 4401. The client sends only pongs.

A subclass names itself for the log, says who may listen, which groups it joins besides the
user's own, which hub event carries its frames, and what hello carries.
"""

from __future__ import annotations

import asyncio
import json
import logging

from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth.models import AnonymousUser

from blog.models import User
from realtime.admission import HANDSHAKE_SCOPE_KEY, Handshake, HandshakeTooLate, check_in_time
from realtime.caps import SocketSlot, socket_cap
from realtime.consumers import CLOSE_TOO_MANY_SOCKETS, client_address
from realtime.database_thread import on_database_thread
from realtime.heartbeat import CLOSE_TOO_SLOW, Heartbeat
from realtime.hub import get_hub
from realtime.session_gate import CLOSE_SESSION_ENDED, SessionGate
from realtime.socket_basics import MESSAGE_NOT_JSON, MESSAGE_UNKNOWN_TYPE, HeartbeatSocket

logger = logging.getLogger(__name__)


class ListeningSocket(HeartbeatSocket, SessionGate, AsyncWebsocketConsumer):
    # No channel of its own: the process's hub hands on its groups' events.
    channel_layer_alias = None
    # In the log lines.
    name = ""
    # The hub event whose "frame" this socket sends on; the groups it joins besides the user's.
    frame_event = ""
    groups_joined: tuple[str, ...] = ()
    # Whether being signed in is not enough (may_listen asks the database: one more hop).
    checks_rights = False

    @staticmethod
    def may_listen(user: User) -> bool:
        """Sync, on the database thread (when checks_rights): whether this signed-in user may listen."""
        return True

    @staticmethod
    def hello(user: User) -> dict[str, object]:
        """Sync, on the database thread, once the groups are joined: what hello carries besides the user."""
        return {}

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.user_id = self.user.pk  # for the log, after the session ends too
        self.joined_user_id: int | None = None
        self.joined: list[str] = []
        self.background: list[asyncio.Task] = []
        handshake = self.scope.get(HANDSHAKE_SCOPE_KEY)
        try:
            allowed = self.user.is_authenticated and (
                not self.checks_rights or await on_database_thread(self.allowed_in_time)(handshake)
            )
        except HandshakeTooLate:
            logger.info("websocket refused reason=handshake-too-late path=%s", self.scope["path"])
            await self.close()
            return
        if not allowed:
            reason = "login-required" if not self.user.is_authenticated else "not-allowed"
            logger.info("websocket refused reason=%s path=%s user=%s", reason, self.scope["path"], self.user_id)
            await self.close()  # before accept: daphne answers the handshake with 403
            return
        self.session_key = self.scope["session"].session_key
        self.slot = SocketSlot(socket_cap(self.user, client_address(self.scope)))
        renew = self.slot.renew if self.slot.cap is not None else None
        self.heartbeat = Heartbeat(send=self.send_unchecked, close=self.close_too_slow, tick=renew)
        self.hub = get_hub()
        # Frames that come before hello wait here: the page draws from hello first.
        self.held: list[str] | None = []
        if not await self.slot.take():
            logger.info("websocket refused reason=too-many-sockets %s user=%s", self.name, self.user_id)
            await self.accept()
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        try:
            # Logout, a new password and deactivation are announced to the user's group.
            self.joined_user_id = self.user.pk
            await self.hub.join_user(self.user.pk, self)
            for group in self.groups_joined:
                self.joined.append(group)
                await self.hub.join(group, self)
            # Read after joining: a change made meanwhile is in what is read, or comes live after
            # hello, or both (the page takes the later as an update).
            said = await on_database_thread(self.hello_in_time)(handshake)
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
            logger.info("websocket connected %s user=%s", self.name, self.user_id)
            await self.send_json({"type": "hello", "user": self.user.get_username(), **said})
            while self.held:
                await self.send(text_data=self.held.pop(0))
            self.held = None  # no await since the loop's last check: nothing can slip in
        except BaseException:
            for task in self.background:
                task.cancel()
            await self.leave_groups()
            await self.slot.release()
            raise

    def allowed_in_time(self, handshake: Handshake | None) -> bool:
        check_in_time(handshake)
        return self.may_listen(self.user)

    def hello_in_time(self, handshake: Handshake | None) -> dict[str, object]:
        check_in_time(handshake)
        return self.hello(self.user)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "heartbeat"):
            return  # refused before anything was taken
        self.heartbeat.stop()
        await self.slot.release()
        await self.leave_groups()
        for task in self.background:
            task.cancel()
        logger.info("websocket disconnected %s user=%s code=%s", self.name, self.user_id, code)

    async def leave_groups(self) -> None:
        while self.joined:
            await self.hub.leave(self.joined.pop(), self)
        await self.leave_user_group()

    async def deliver(self, event: dict) -> None:
        if event["type"] == "session.check":
            # A database read: not in the hub's loop, which serves every socket.
            self.run_in_background(self.session_check(event["reason"]))
        elif event["type"] == self.frame_event:
            if self.held is not None:
                self.held.append(event["frame"])
            else:
                await self.send(text_data=event["frame"])

    async def end_session(self, reason: str) -> bool:
        """The session ended: with no post to show anyone, nothing more is sent and the socket closes."""
        if not self.user.is_authenticated:
            return False  # a check running alongside already ended it
        # Anonymous before the first await, so that a check alongside does not end it twice.
        self.user = AnonymousUser()
        logger.info("websocket session ended %s user=%s reason=%s", self.name, self.user_id, reason)
        await self.leave_groups()
        await self.send_json({"type": "session.ended"})
        await self.close(code=CLOSE_SESSION_ENDED)
        return False

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = json.loads(text_data) if text_data is not None else None
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            await self.send_error("bad_request", MESSAGE_NOT_JSON)
            return
        if frame.get("type") != "pong":
            await self.send_error("bad_request", MESSAGE_UNKNOWN_TYPE)
            return
        await self.on_pong(frame)

    async def send_error(self, code: str, message: str, **extra: object) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    async def close_too_slow(self, reason: str) -> None:
        logger.info("websocket closed reason=too-slow %s user=%s %s", self.name, self.user_id, reason)
        await self.close(code=CLOSE_TOO_SLOW)

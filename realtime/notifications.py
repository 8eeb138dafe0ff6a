"""/ws/notifications/: a signed-in user's notifications on pages without a comment socket.

The post page's comment socket already carries them (its user's group); every
other page of a signed-in user opens this one for the bell. It is the comment
socket's rules without a post: the same session (refused with 403 when there is
none), re-checked when told and at its expiry; when the session ends there is
nothing left to show, so it closes with 4401. It reads nothing from the client
but pongs: the heartbeat bounds what an unread socket may hold here too.
"""

from __future__ import annotations

import asyncio
import logging

from channels.generic.websocket import AsyncWebsocketConsumer

from blog.models import User
from blog.notifications import selectors as notification_selectors
from realtime.admission import HANDSHAKE_SCOPE_KEY, Handshake, HandshakeTooLate, check_in_time
from realtime.caps import SocketSlot, socket_cap
from realtime.consumers import CLOSE_TOO_MANY_SOCKETS, client_address
from realtime.database_thread import on_database_thread
from realtime.heartbeat import CLOSE_TOO_SLOW, Heartbeat
from realtime.hub import get_hub
from realtime.session_gate import CLOSE_SESSION_ENDED, SessionGate
from realtime.socket_basics import ListeningSocket

logger = logging.getLogger(__name__)


class NotificationConsumer(ListeningSocket, SessionGate, AsyncWebsocketConsumer):
    # No channel of its own: the process's hub hands on the user group's events.
    channel_layer_alias = None

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.joined_user_id: int | None = None
        self.background: list[asyncio.Task] = []
        if not self.user.is_authenticated:
            logger.info("websocket refused reason=login-required path=%s", self.scope["path"])
            await self.close()  # before accept: daphne answers the handshake with 403
            return
        self.session_key = self.scope["session"].session_key
        self.slot = SocketSlot(socket_cap(self.user, client_address(self.scope)))
        renew = self.slot.renew if self.slot.cap is not None else None
        self.heartbeat = Heartbeat(send=self.send_unchecked, close=self.close_too_slow, tick=renew)
        self.hub = get_hub()
        # Frames that come before hello wait here, so that the page reads the count first.
        self.held: list[str] | None = []
        if not await self.slot.take():
            logger.info("websocket refused reason=too-many-sockets user=%s", self.user.pk)
            await self.accept()
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        try:
            # Joined before the count is read: a notification made meanwhile is counted and also
            # comes live, with its own count after it.
            self.joined_user_id = self.user.pk
            await self.hub.join_user(self.user.pk, self)
            unread = await on_database_thread(unread_in_time)(self.user, self.scope.get(HANDSHAKE_SCOPE_KEY))
        except HandshakeTooLate:
            logger.info("websocket refused reason=handshake-too-late path=%s", self.scope["path"])
            await self.leave_user_group()
            await self.slot.release()
            await self.close()
            return
        except BaseException:
            await self.leave_user_group()
            await self.slot.release()
            raise
        try:
            self.run_in_background(self.end_session_at_expiry(self.scope.get("session_expires_at")))
            await self.accept()
            self.heartbeat.start()
            logger.info("websocket connected notifications user=%s", self.user.pk)
            await self.send_json({"type": "hello", "user": self.user.get_username(), "unread": unread})
            while self.held:
                await self.send(text_data=self.held.pop(0))
            self.held = None  # no await since the loop's last check: nothing can slip in
        except BaseException:
            for task in self.background:
                task.cancel()
            await self.leave_user_group()
            await self.slot.release()
            raise

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "heartbeat"):
            return  # refused before anything was taken
        self.heartbeat.stop()
        await self.slot.release()
        await self.leave_user_group()
        for task in self.background:
            task.cancel()
        logger.info("websocket disconnected notifications user=%s code=%s", self.user.pk, code)

    async def deliver(self, event: dict) -> None:
        if event["type"] == "session.check":
            self.run_in_background(self.session_check(event["reason"]))
        elif event["type"] == "user.frame":
            if self.held is not None:
                self.held.append(event["frame"])
            else:
                await self.send(text_data=event["frame"])

    async def end_session(self, reason: str) -> bool:
        """The session ended: a socket with no post has nothing left to show anyone."""
        if not self.user.is_authenticated:
            return False
        logger.info("websocket session ended notifications user=%s reason=%s", self.user.pk, reason)
        await self.leave_user_group()
        await self.send_json({"type": "session.ended"})
        await self.close(code=CLOSE_SESSION_ENDED)
        return False

    # Sending: every frame passes the heartbeat, as on the comment socket (HeartbeatSocket).

    async def close_too_slow(self, reason: str) -> None:
        logger.info("websocket closed reason=too-slow notifications user=%s %s", self.user.pk, reason)
        await self.close(code=CLOSE_TOO_SLOW)


def unread_in_time(user: User, handshake: Handshake | None) -> int:
    """Sync, on the database thread: nothing for a handshake already too late, else the unread count."""
    check_in_time(handshake)
    return notification_selectors.unread_count(user)

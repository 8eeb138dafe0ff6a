"""What every socket does alike: send through the heartbeat, answer pongs, keep background work and
leave the user's group. The sockets a page only listens on build on it (realtime/listening.py).

Mixed in before AsyncWebsocketConsumer. The consumer provides heartbeat, hub, background,
joined_user_id and send_error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from autobahn.exception import Disconnected

from realtime import broadcast

MESSAGE_NOT_TEXT = "{field} must be text."
MESSAGE_NOT_JSON = "The frame is not valid JSON."
MESSAGE_UNKNOWN_TYPE = "Unknown frame type."


class HeartbeatSocket:
    # Sending: every frame passes the heartbeat, which bounds what an unread socket may hold.

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        await self.heartbeat.send(text_data)
        if close:
            await self.close(close)

    async def send_unchecked(self, text: str) -> None:
        # Straight to the server: AsyncWebsocketConsumer.send would only build this message
        # through two more calls, for every reader of every comment.
        try:
            await self.base_send({"type": "websocket.send", "text": text})
        except Disconnected:
            # The reader has gone and daphne refuses the frame; the disconnect that will tell this
            # consumer is still queued behind what it is doing now. Nothing more is sent meanwhile.
            self.heartbeat.stop()

    async def send_json(self, frame: dict[str, object]) -> None:
        await self.send(text_data=broadcast.encode_frame(frame))

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        if hasattr(self, "heartbeat"):  # not yet made for a handshake refused at once
            self.heartbeat.stop()  # nothing is sent after the close frame
        await super().close(code=code, reason=reason)

    async def on_pong(self, frame: dict) -> None:
        """A heartbeat answer: not a write, so no session check. A token of no ping of this socket is ignored."""
        token = frame.get("token")
        if not isinstance(token, str):
            message = MESSAGE_NOT_TEXT.format(field="token")
            await self.send_error("invalid", message, errors={"token": [message]})
            return
        self.heartbeat.answered(token)

    def run_in_background(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.background.append(task)
        task.add_done_callback(self.background.remove)

    async def leave_user_group(self) -> None:
        if self.joined_user_id is not None:
            await self.hub.leave_user(self.joined_user_id, self)
            self.joined_user_id = None

"""The comment socket: transport only.

It checks who is connecting, decodes client frames, calls the same service
the HTTP view calls and encodes the answer. Readers of a post share one
channel-layer group; frames from the group arrive already encoded.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth.models import AnonymousUser

from blog.failures import SERVICE_REFUSALS, failure_from
from blog.models import Comment, Post
from blog.services import comment_post
from realtime import broadcast
from realtime.auth import session_still_names

logger = logging.getLogger(__name__)

# Text frames larger than this are refused before they are parsed.
MAX_FRAME_BYTES = 64 * 1024
# A reader further behind than this reloads the list over HTTP instead.
REPLAY_LIMIT = 200

CLOSE_SESSION_ENDED = 4401
CLOSE_NOT_FOUND = 4404

MESSAGE_BINARY = "Send JSON text frames; binary frames are not accepted."
MESSAGE_TOO_LARGE = f"Frames are limited to {MAX_FRAME_BYTES // 1024} KiB."
MESSAGE_NOT_JSON = "The frame is not valid JSON."
MESSAGE_NOT_OBJECT = "The frame must be a JSON object."
MESSAGE_UNKNOWN_TYPE = "Unknown frame type."
MESSAGE_BAD_AFTER = "after must be a comment id (a whole number)."
MESSAGE_BODY_NOT_TEXT = "body must be text."
MESSAGE_CLIENT_ID_NOT_TEXT = "client_id must be text or null."


class CommentConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.session_key = self.scope["session"].session_key
        self.user_group: str | None = None
        self.replayed_ids: set[int] = set()
        self.post = await self.visible_post()
        if self.post is None:
            # Closing before accept makes daphne refuse the handshake with 403.
            logger.info("websocket refused reason=post-not-visible path=%s", self.scope["path"])
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.post_group = broadcast.post_group_name(self.post.pk)
        # Subscribe before reading the backlog, so nothing falls between the two.
        await self.channel_layer.group_add(self.post_group, self.channel_name)
        if self.user.is_authenticated:
            # Logout and password changes elsewhere are announced to this group.
            self.user_group = broadcast.user_group_name(self.user.pk)
            await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()
        logger.info("websocket connected post=%s user=%s", self.post.pk, self.user.pk)
        await self.send_json(
            {
                "type": "hello",
                "user": self.user.get_username() if self.user.is_authenticated else None,
                "can_comment": self.user.is_authenticated and self.post.is_published,
            }
        )
        await self.replay_backlog()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "post_group", None):
            await self.channel_layer.group_discard(self.post_group, self.channel_name)
            await self.leave_user_group()
            logger.info("websocket disconnected post=%s user=%s code=%s", self.post.pk, self.user.pk, code)

    async def leave_user_group(self) -> None:
        if self.user_group:
            await self.channel_layer.group_discard(self.user_group, self.channel_name)
            self.user_group = None

    async def session_is_still_valid(self) -> bool:
        """Reload the session from its store: the connect-time user is not trusted for long."""
        current = await session_still_names(self.session_key, self.user)
        if current is None:
            return False
        self.user = current  # picks up changes such as new permissions
        return True

    async def end_session(self, reason: str) -> bool:
        """The session behind this socket is gone: carry on as an anonymous reader, or close.

        Returns whether the socket stays open.
        """
        logger.info("websocket session ended post=%s user=%s reason=%s", self.post.pk, self.user.pk, reason)
        await self.send_json({"type": "session.ended"})
        await self.leave_user_group()
        self.user = AnonymousUser()
        if self.post.is_published:
            return True
        # Only the session let this socket see a draft.
        await self.close(code=CLOSE_SESSION_ENDED)
        return False

    async def visible_post(self) -> Post | None:
        post_id = self.scope["url_route"]["kwargs"]["post_id"]
        visible = await Post.objects.avisible_to(self.user)
        return await visible.filter(pk=post_id).afirst()

    async def replay_backlog(self) -> None:
        """With ?after=N, send every comment newer than N before any live frame."""
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        if "after" not in query:
            return
        try:
            after = int(query["after"][-1])
        except ValueError:
            await self.send_error("bad_request", MESSAGE_BAD_AFTER)
            return
        backlog = [
            comment
            async for comment in Comment.objects.filter(post=self.post).after(after).for_display()[: REPLAY_LIMIT + 1]
        ]
        if len(backlog) > REPLAY_LIMIT:
            await self.send_json({"type": "resync"})
            return
        for comment in backlog:
            self.replayed_ids.add(comment.pk)
            await self.send(text_data=broadcast.comment_created_frame(comment))

    # Client frames. Only the types in client_frame_handlers are accepted, so a
    # client cannot imitate a server event such as comment.created.

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self.send_error("bad_request", MESSAGE_BINARY)
            return
        if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
            await self.send_error("bad_request", MESSAGE_TOO_LARGE)
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_error("bad_request", MESSAGE_NOT_JSON)
            return
        if not isinstance(frame, dict):
            await self.send_error("bad_request", MESSAGE_NOT_OBJECT)
            return
        handler = self.client_frame_handlers.get(frame.get("type"))
        if handler is None:
            await self.send_error("bad_request", MESSAGE_UNKNOWN_TYPE)
            return
        await handler(self, frame)

    async def comment_create(self, frame: dict) -> None:
        client_id = frame.get("client_id")
        if client_id is not None and not isinstance(client_id, str):
            await self.send_error(
                "invalid", MESSAGE_CLIENT_ID_NOT_TEXT, errors={"client_id": [MESSAGE_CLIENT_ID_NOT_TEXT]}
            )
            return
        body = frame.get("body")
        if not isinstance(body, str):
            await self.send_error(
                "invalid", MESSAGE_BODY_NOT_TEXT, client_id=client_id, errors={"body": [MESSAGE_BODY_NOT_TEXT]}
            )
            return
        session_ended = self.user.is_authenticated and not await self.session_is_still_valid()
        if session_ended and not await self.end_session(reason="checked-before-comment"):
            return
        # A socket whose session just ended goes on as an anonymous reader: the service answers login_required.
        try:
            posted = await database_sync_to_async(comment_post)(
                post=self.post, author=self.user, body=body, client_id=client_id
            )
        except SERVICE_REFUSALS as error:
            failure = failure_from(error)
            await self.send_error(failure.code, failure.message, client_id=client_id, **failure.extra)
            return
        await self.send_json({"type": "comment.ack", "client_id": client_id, "id": posted.comment.pk})

    client_frame_handlers = {"comment.create": comment_create}

    # Channel-layer events, named after their types.

    async def comment_created(self, event: dict) -> None:
        if event["id"] in self.replayed_ids:
            return
        await self.send(text_data=event["frame"])

    async def comment_deleted(self, event: dict) -> None:
        await self.send(text_data=event["frame"])

    async def session_check(self, event: dict) -> None:
        """A logout or password change for this user: is this socket's session one of those ended?"""
        if self.user.is_authenticated and not await self.session_is_still_valid():
            await self.end_session(reason=event["reason"])

    async def send_json(self, frame: dict[str, object]) -> None:
        await self.send(text_data=broadcast.encode_frame(frame))

    async def send_error(self, code: str, message: str, *, client_id: str | None = None, **extra: object) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, "client_id": client_id, **extra})

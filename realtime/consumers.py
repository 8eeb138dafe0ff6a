"""The comment socket: transport only.

It checks who is connecting, decodes client frames, calls the same services
the HTTP views call and encodes the answers. Broadcasts reach it through the
process's hub (realtime/hub.py), already encoded.
"""

from __future__ import annotations

import asyncio
import json
import logging
from array import array
from bisect import bisect_left, insort
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError

from blog.comments import likes as comment_likes
from blog.comments import selectors as comment_selectors
from blog.comments import services as comment_services
from blog.failures import SERVICE_REFUSALS, failure_from
from blog.models import Comment, Post, User
from blog.notifications import selectors as notification_selectors
from blog.posts import selectors as post_selectors
from blog.posts import versions as post_versions
from realtime.admission import HANDSHAKE_SCOPE_KEY, Handshake, HandshakeTooLate, check_in_time
from realtime.auth import session_still_names_now
from realtime.caps import SocketSlot, socket_cap
from realtime.database_thread import on_database_thread
from realtime.heartbeat import CLOSE_TOO_SLOW, Heartbeat, frame_bytes
from realtime.hub import get_hub
from realtime.session_gate import SessionGate
from realtime.socket_basics import MESSAGE_NOT_JSON, MESSAGE_NOT_TEXT, MESSAGE_UNKNOWN_TYPE, HeartbeatSocket

logger = logging.getLogger(__name__)

# Text frames larger than this are refused before they are parsed.
MAX_FRAME_BYTES = 64 * 1024
# Writes of one socket running at once (CommentConsumer.start_write); the frames after them wait unread.
WRITES_IN_FLIGHT = 8

# Refusals the page's script must understand are sent after accept(): a close before
# it reaches a browser as 1006 (daphne answers the handshake with 403).
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY_SOCKETS = 4429

MESSAGE_BINARY = "Send JSON text frames; binary frames are not accepted."
MESSAGE_TOO_LARGE = f"Frames are limited to {MAX_FRAME_BYTES // 1024} KiB."
MESSAGE_TOO_DEEP = "The frame is nested too deeply."
MESSAGE_NOT_OBJECT = "The frame must be a JSON object."
MESSAGE_BAD_AFTER = "{name} must be a whole number."
MESSAGE_CLIENT_ID_NOT_TEXT = "client_id must be text or null."
MESSAGE_ID_NOT_NUMBER = "id must be a comment id (a whole number)."
MESSAGE_NO_SUCH_COMMENT = "There is no such comment on this post."


# A write frame's handler answers with the ack's fields (the comment's id; a new one's status),
# or None when the socket closed instead.
Ack = dict[str, object]
Handler = Callable[["CommentConsumer", dict], Awaitable[Ack | None]]


class FrameError(Exception):
    """A client frame whose fields are not what its type needs."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class CommentConsumer(HeartbeatSocket, SessionGate, AsyncWebsocketConsumer):
    # No channel of its own: the process's hub subscribes once for all its sockets.
    channel_layer_alias = None
    # The comments and changes this socket replayed from the database on connect (at most
    # RESUME_LIMIT of each) and has not seen live yet, as sorted event_key numbers; None for
    # a socket that replayed nothing. An array of 8-byte numbers, not a set of (kind, id): after
    # a restart every reader resumes, and keeps this for as long as it stays.
    replayed: array | None = None

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        """Channels' __call__ for a consumer without a channel of its own: one message at a time.

        Channels' await_many_dispatch waits on the client and the consumer's channel together, so it
        runs each receive() as a task of its own and waits for it with asyncio.wait: a task and
        two extra turns of the event loop per message, the handshake included, for nothing when
        there is only the client to read (the hub delivers this consumer's events by calling it).
        """
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message: dict) -> None:
        """Channels' dispatch without its hop to the database thread before every message.

        Channels awaits aclose_old_connections() (a hop to the one thread every socket's
        database work queues on) before each handler, pongs and bad frames included. Here
        every database access goes through on_database_thread (realtime/database_thread.py),
        which drops a connection that died in that thread before the call, so the hop buys nothing.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict) -> None:
        """Channels' version without its closing hop to the database thread (see dispatch).

        This consumer joins no channel-layer groups, so there are none to leave here.
        """
        await self.disconnect(message["code"])
        raise StopConsumer

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.slot = SocketSlot(socket_cap(self.user, client_address(self.scope)))
        # A socket under a cap renews its slot at every beat.
        renew = self.slot.renew if self.slot.cap is not None else None
        self.heartbeat = Heartbeat(send=self.send_unchecked, close=self.close_too_slow, tick=renew)
        self.session_key = self.scope["session"].session_key
        self.hub = get_hub()
        self.joined_user_id: int | None = None
        # Live events wait here while the backlog is sent, so the order holds.
        self.held: list[dict] | None = []
        # Lists, not a set and a deque: they hold a few tasks at most, and an empty deque
        # alone is about 600 bytes, kept by every idle reader.
        self.background: list[asyncio.Task] = []
        self.writes: list[asyncio.Task] = []
        self.can_moderate = False
        self.unread: int | None = None
        try:
            self.post = await self.visible_post(handshake=self.scope.get(HANDSHAKE_SCOPE_KEY))
        except HandshakeTooLate:
            # daphne has rejected the handshake or is about to, or its client left: nothing more for it.
            logger.info("websocket refused reason=handshake-too-late path=%s", self.scope["path"])
            self.post = None
            await self.close()
            return
        if self.post is None:
            logger.info("websocket refused reason=post-not-visible path=%s", self.scope["path"])
            await self.refuse(CLOSE_NOT_FOUND)
            return
        if not await self.slot.take():
            logger.info("websocket refused reason=too-many-sockets post=%s user=%s", self.post.pk, self.user.pk)
            self.post = None  # nothing joined, nothing to leave
            await self.refuse(CLOSE_TOO_MANY_SOCKETS)
            return
        try:
            # Subscribe before reading the backlog, so nothing falls between the two.
            await self.hub.join_post(self.post.pk, self)
            if self.user.is_authenticated:
                # Logout and password changes elsewhere are announced to this user's group.
                self.joined_user_id = self.user.pk
                await self.hub.join_user(self.user.pk, self)
                self.run_in_background(self.end_session_at_expiry(self.scope.get("session_expires_at")))
            await self.accept()
            self.heartbeat.start()
            logger.info("websocket connected post=%s user=%s", self.post.pk, self.user.pk)
            await self.send_json(
                {
                    "type": "hello",
                    "user": self.user.get_username() if self.user.is_authenticated else None,
                    "can_comment": self.user.is_authenticated and self.post.is_published,
                    "can_moderate": self.can_moderate,
                    # When an edit last changed the post (never edited: absent), so that a page rendered
                    # before the edit says so when it (re)connects.
                    **({"revised": self.post.revised.isoformat()} if self.post.revised else {}),
                    # The bell's count (signed in only): notifications made since the page was rendered.
                    **({"unread": self.unread} if self.user.is_authenticated else {}),
                }
            )
            await self.send_json({"type": "presence", "readers": self.hub.presence.total(self.post.pk)})
            await self.replay_backlog()
            await self.release_held()
        except BaseException:
            # Also a client that left mid-handshake (the admission middleware cancels connect()).
            for task in self.background:
                task.cancel()
            await self.leave_hub()
            await self.slot.release()
            raise

    async def refuse(self, code: int) -> None:
        # Accepted first, so that the page's script sees the code.
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "heartbeat"):  # set at the start of connect()
            self.heartbeat.stop()
            await self.slot.release()
        if getattr(self, "post", None) is None:
            return
        await self.leave_hub()
        for task in (*self.background, *self.writes):
            task.cancel()
        logger.info("websocket disconnected post=%s user=%s code=%s", self.post.pk, self.user.pk, code)

    async def leave_hub(self) -> None:
        await self.hub.leave_post(self.post.pk, self)
        await self.leave_user_group()

    async def visible_post(self, handshake: Handshake | None = None) -> Post | None:
        """The post if this socket's user may see it, and (self.can_moderate) whether the user may
        delete anyone's comment: one hop to the database thread. Raises HandshakeTooLate instead
        of reading anything for a handshake no one waits for."""
        post_id = self.scope["url_route"]["kwargs"]["post_id"]
        if self.user.is_authenticated:
            post, self.can_moderate, self.unread = await on_database_thread(post_and_rights)(
                self.user, post_id, handshake
            )
            return post
        # A published post is the same for every anonymous reader: the copy the pages keep in the
        # cache (read or filled here) spares a crowd of them the database thread all sockets share.
        found, _ = await post_versions.cached_post_and(post_id, lambda post: None)
        if found.post is not None:
            return found.post
        post, _, _ = await on_database_thread(post_and_rights)(self.user, post_id, handshake)
        await post_versions.remember(post, found)
        return post

    async def replay_backlog(self) -> None:
        """With ?after=N (and ?changes_after=M), send what the reader missed before any live frame.

        Both are read in one hop to the database thread, shared with the sockets that resume from
        the same point meanwhile (backlog.SharedBacklogReads), and none is made when neither is
        asked or when the hub has yet to hand on everything newer (Hub.hands_on_everything_after).
        """
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        asked: dict[str, int | None] = {"after": None, "changes_after": None}
        for name in asked:
            if name not in query:
                continue
            try:
                asked[name] = int(query[name][-1])
            except ValueError:
                await self.send_error("bad_request", MESSAGE_BAD_AFTER.format(name=name))
        # Joined already: what the process has yet to hand on comes live, and a page loaded
        # just now (the usual resume) needs no read on the thread every handshake shares.
        for name, kind in (("after", "comment"), ("changes_after", "change")):
            if asked[name] is not None and self.hub.hands_on_everything_after(self.post.pk, kind, asked[name]):
                asked[name] = None
        if asked == {"after": None, "changes_after": None}:
            return
        missed = await self.hub.backlog_reads.read(self.post.pk, **asked)
        for events in missed.values():
            # No pong can be read before connect() returns: a backlog larger than the
            # unread bound would close the socket, so the reader reloads the list instead.
            if events is None or sum(frame_bytes(event["frame"]) for event in events) > self.heartbeat.room_left:
                await self.send_json({"type": "resync"})
                return
            for event in events:
                await self.forward(event)

    async def release_held(self) -> None:
        while self.held:
            await self.forward_live(self.held.pop(0))
        self.held = None  # no await since the loop's last check: nothing can slip in

    # Events from the hub

    async def deliver(self, event: dict) -> None:
        if event["type"] == "session.check":
            # A database read: not in the hub's loop, which serves every socket.
            self.run_in_background(self.session_check(event["reason"]))
        elif event["type"] == "post.changed":
            await self.post_changed(published=event["published"], deleted=event["deleted"])
        elif self.held is not None:
            self.held.append(event)
        else:
            await self.forward_live(event)

    async def forward(self, event: dict) -> None:
        """A frame of the backlog: remembered, because the same comment or change may also be on its way live."""
        if self.replayed is None:
            self.replayed = array("q")
        insort(self.replayed, event_key(event))
        await self.send(text_data=event["frame"])

    async def forward_live(self, event: dict) -> None:
        # The hub hands each comment and change on once; only this socket's own replay can overlap it.
        if self.replayed and self.seen_in_replay(event_key(event)):
            return
        await self.send(text_data=event["frame"])

    def seen_in_replay(self, key: int | None) -> bool:
        """Whether the replay sent this event; then it is forgotten, as the hub hands on none twice."""
        if key is None:  # a presence count or a resync: never replayed
            return False
        index = bisect_left(self.replayed, key)
        if index == len(self.replayed) or self.replayed[index] != key:
            return False
        del self.replayed[index]
        return True

    async def post_changed(self, *, published: bool, deleted: bool) -> None:
        """The post was saved or deleted (unpublished, say): may this socket's user still see it?

        Decided without the database where the event says enough, because every reader of
        a popular post hears it: a published post stays readable by all, a deleted one by none,
        a draft by no anonymous reader. Only logged-in readers of a draft check their rights.
        """
        if deleted or not (published or self.user.is_authenticated):
            logger.info("websocket closed reason=post-not-visible post=%s user=%s", self.post.pk, self.user.pk)
            await self.close(code=CLOSE_NOT_FOUND)
        elif published:
            was_published, self.post.status = self.post.is_published, Post.Status.PUBLISHED
            if not was_published:
                await self.send_json({"type": "post.updated", "published": True})
        else:
            self.run_in_background(self.draft_still_visible())

    async def draft_still_visible(self) -> None:
        """The post is a draft now: only its author and publishers keep reading it."""
        # The user is reloaded first: a session that ended or a permission taken away
        # must not keep a draft open.
        session_ended = self.user.is_authenticated and not await self.session_is_still_valid()
        if session_ended and not await self.end_session(reason="checked-on-post-change"):
            return  # closed: only the session let it see a draft
        post = await self.visible_post()
        if post is None:
            logger.info("websocket closed reason=post-not-visible post=%s user=%s", self.post.pk, self.user.pk)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Writes and can_comment now see the post as saved.
        self.post = post
        await self.send_json({"type": "post.updated", "published": post.is_published})

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
        except RecursionError:
            await self.send_error("bad_request", MESSAGE_TOO_DEEP)
            return
        except ValueError:
            await self.send_error("bad_request", MESSAGE_NOT_JSON)
            return
        if not isinstance(frame, dict):
            await self.send_error("bad_request", MESSAGE_NOT_OBJECT)
            return
        frame_type = frame.get("type")
        if frame_type == "pong":
            await self.on_pong(frame)
            return
        handler = self.client_frame_handlers.get(frame_type) if isinstance(frame_type, str) else None
        if handler is None:
            await self.send_error("bad_request", MESSAGE_UNKNOWN_TYPE)
            return
        await self.start_write(handler, frame)

    async def start_write(self, handler: Handler, frame: dict) -> None:
        """Run a write beside the ones still in flight, at most WRITES_IN_FLIGHT of them.

        One at a time, a socket's writes would each wait for the event loop several times
        (the session check, the save), and on a busy server, a loop turn handing
        the last comment to thousands of readers: a quick writer would fall further and
        further behind. Together, they are saved one after another on the database
        thread all the same, and answered in the order they were sent. Past the limit
        this waits, so the frames wait unread, as they did when writes ran one at a time.
        """
        while len(self.writes) >= WRITES_IN_FLIGHT:
            await asyncio.wait({self.writes[0]})
        earlier = self.writes[-1] if self.writes else None
        write = asyncio.ensure_future(self.write(handler, frame, earlier))
        self.writes.append(write)
        write.add_done_callback(self.writes.remove)

    async def write(self, handler: Handler, frame: dict, earlier: asyncio.Future | None) -> None:
        """One write: its handler, then its answer once the write before it has answered."""
        client_id = None
        try:
            client_id = checked_client_id(frame.get("client_id"))
            acked = await handler(self, frame)
            if acked is None:
                return  # the session ended, and with it the only right to see the post: closed
        except FrameError as error:
            answer = self.error_frame("invalid", str(error), client_id=client_id, errors={error.field: [str(error)]})
        except SERVICE_REFUSALS as error:
            failure = failure_from(error)
            answer = self.error_frame(failure.code, failure.message, client_id=client_id, **failure.extra)
        except Exception:
            # As an error raised in receive() would: logged, and the socket closed (1011).
            logger.exception("websocket write failed post=%s user=%s", self.post.pk, self.user.pk)
            await self.close(code=1011)
            return
        else:
            answer = {"type": "comment.ack", "client_id": client_id, **acked}
        if earlier is not None:
            await asyncio.wait({earlier})  # answered in the order they were sent
        await self.send_json(answer)

    # Each handler re-checks the session before it writes (SessionGate) and returns what the ack
    # says of the comment (its id; a new one's status), or None when the socket closed because the session ended.

    async def on_comment_create(self, frame: dict) -> Ack | None:
        body, client_id = text_field(frame, "body"), frame.get("client_id")
        # Absent or null: a top-level comment; anything else the service checks (errors.parent).
        parent_id = frame.get("parent")
        if self.user.is_authenticated:
            # The check and the save in one call to the database thread: the comment path is the busy one.
            checked = await on_database_thread(post_as_session_user)(
                self.session_key, self.user, post=self.post, body=body, client_id=client_id, parent_id=parent_id
            )
            if checked is not None:
                self.user, posted = checked
                return {"id": posted.comment.pk, "status": posted.comment.status}
            if not await self.end_session(reason="checked-before-write"):
                return None
        # Not signed in (or no longer): the service refuses with login_required.
        posted = await on_database_thread(comment_services.comment_post)(
            post=self.post, author=self.user, body=body, client_id=client_id, parent_id=parent_id
        )
        return {"id": posted.comment.pk, "status": posted.comment.status}

    async def on_comment_delete(self, frame: dict) -> Ack | None:
        if not await self.session_holds_for_writing():
            return None
        comment = await self.comment_of_this_post(frame)
        comment_id = comment.pk  # Django clears pk on delete
        await on_database_thread(comment_services.comment_delete)(comment=comment, actor=self.user)
        return {"id": comment_id}

    async def on_comment_edit(self, frame: dict) -> Ack | None:
        body = text_field(frame, "body")
        if not await self.session_holds_for_writing():
            return None
        comment = await self.comment_of_this_post(frame)
        await on_database_thread(comment_services.comment_edit)(comment=comment, actor=self.user, body=body)
        return {"id": comment.pk}

    async def on_comment_like(self, frame: dict) -> Ack | None:
        liked = frame.get("liked")
        if not isinstance(liked, bool):
            raise FrameError("liked", comment_likes.MESSAGE_LIKED_NOT_BOOLEAN)
        if not await self.session_holds_for_writing():
            return None
        comment_id = frame_comment_id(frame)
        # Only what every reader sees: a held or hidden comment is "no such comment" here, as over HTTP.
        comment = await on_database_thread(comment_selectors.likeable_comment)(comment_id, self.post)
        if comment is None:
            raise FrameError("id", MESSAGE_NO_SUCH_COMMENT)
        done = await on_database_thread(comment_likes.comment_like)(comment=comment, actor=self.user, liked=liked)
        return {"id": done.comment_id, "liked": done.liked, "likes": done.likes}

    async def comment_of_this_post(self, frame: dict) -> Comment:
        comment_id = frame_comment_id(frame)
        comment = await on_database_thread(comment_selectors.comment_of_post)(comment_id, self.post, self.user)
        if comment is None:
            raise FrameError("id", MESSAGE_NO_SUCH_COMMENT)
        return comment

    # Named on_*, not after the frame type: Channels would call comment_create for a
    # channel-layer message of type comment.create.
    client_frame_handlers: dict[str, Handler] = {
        "comment.create": on_comment_create,
        "comment.delete": on_comment_delete,
        "comment.edit": on_comment_edit,
        "comment.like": on_comment_like,
    }

    # Sending: every frame passes the heartbeat (HeartbeatSocket, realtime/socket_basics.py).

    async def close_too_slow(self, reason: str) -> None:
        logger.info("websocket closed reason=too-slow post=%s user=%s %s", self.post.pk, self.user.pk, reason)
        await self.close(code=CLOSE_TOO_SLOW)

    async def send_error(self, code: str, message: str, *, client_id: str | None = None, **extra: object) -> None:
        await self.send_json(self.error_frame(code, message, client_id=client_id, **extra))

    @staticmethod
    def error_frame(code: str, message: str, *, client_id: str | None = None, **extra: object) -> dict[str, object]:
        return {"type": "error", "code": code, "message": message, "client_id": client_id, **extra}


def post_and_rights(user: User, post_id: int, handshake: Handshake | None) -> tuple[Post | None, bool, int | None]:
    """Sync, on the database thread: nothing for a handshake already too late, else the post's selector
    and, for a signed-in user, their unread notifications (the bell's count as of now)."""
    check_in_time(handshake)
    post, can_moderate = post_selectors.post_and_moderation_for_socket(user, post_id)
    unread = notification_selectors.unread_count(user) if post is not None and user.is_authenticated else None
    return post, can_moderate, unread


def post_as_session_user(
    session_key: str | None, user: User, *, post: Post, body: str, client_id: object, parent_id: object
) -> tuple[User, comment_services.CommentPosted] | None:
    """Sync: the session re-checked, then the comment posted as its user.

    None when the session no longer names `user` (nothing is posted).
    """
    current = session_still_names_now(session_key, user)
    if current is None:
        return None
    posted = comment_services.comment_post(
        post=post, author=current, body=body, client_id=client_id, parent_id=parent_id
    )
    return current, posted


def client_address(scope: dict) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def event_key(event: dict) -> int | None:
    """What makes a comment or change event the same one, however it arrived, as one number (None for other events)."""
    if "change" in event:
        return 2 * event["change"] + 1
    if event["type"] == "comment.created":
        return 2 * event["id"]
    return None


def frame_comment_id(frame: dict) -> int:
    comment_id = frame.get("id")
    if not isinstance(comment_id, int) or isinstance(comment_id, bool):
        raise FrameError("id", MESSAGE_ID_NOT_NUMBER)
    return comment_id


def checked_client_id(value: object) -> str | None:
    """The frame's client_id by the model's rules. Checked for every frame, stored or not,
    because every answer echoes it."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FrameError("client_id", MESSAGE_CLIENT_ID_NOT_TEXT)
    try:
        Comment._meta.get_field("client_id").run_validators(value)
    except ValidationError as error:
        raise FrameError("client_id", error.messages[0]) from None
    return value


def text_field(frame: dict, field: str) -> str:
    value = frame.get(field)
    if not isinstance(value, str):
        raise FrameError(field, MESSAGE_NOT_TEXT.format(field=field))
    return value

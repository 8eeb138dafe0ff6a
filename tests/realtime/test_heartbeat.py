"""The heartbeat: a reader that does not read is closed with 4408, and costs bounded memory meanwhile."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from blog.comments import services as comment_services
from blog.models import Comment
from realtime.heartbeat import Heartbeat, HeartbeatLimits, frame_bytes
from tests.factories import make_comment

pytestmark = pytest.mark.django_db(transaction=True)

# 3,500 bytes of UTF-8 in 875 characters: with its rendered copy ("html"), a frame of about 7 KB.
BIG_BODY = "\N{GRINNING FACE}" * 875
UNREAD_BOUND = 64 * 1024


@pytest.fixture
def quick_pings(settings):
    settings.BLOG_SOCKET_PING_SECONDS = 0.1
    settings.BLOG_SOCKET_PONG_TIMEOUT_SECONDS = 0.3


@pytest.fixture
def small_unread_bound(settings):
    """Pings by the bytes only, early enough for a reader that answers to keep up."""
    settings.BLOG_SOCKET_PING_SECONDS = 30
    settings.BLOG_SOCKET_PING_BYTES = 16 * 1024
    settings.BLOG_SOCKET_MAX_UNREAD_BYTES = UNREAD_BOUND
    settings.BLOG_COMMENT_RATE_LIMIT = None


async def until_closed(socket, within: float = 5) -> tuple[list[str], int]:
    """Every text frame the server sends until it closes the socket, and the close code."""
    frames = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        output = await socket.communicator.receive_output(timeout=max(0.01, deadline - loop.time()))
        if output["type"] == "websocket.close":
            return frames, output["code"]
        frames.append(output["text"])


async def post_big_comments(post, author, count: int) -> list[int]:
    # One call at a time: the consumer reads each pong only after a call of the ORM's thread.
    post_comment = sync_to_async(comment_services.comment_post)
    return [(await post_comment(post=post, author=author, body=BIG_BODY)).comment.pk for _ in range(count)]


async def test_a_reader_that_answers_pings_stays_open(sockets, post, reader, quick_pings):
    socket, _ = await sockets.connect(post.pk)
    tokens = set()
    # Six rounds take longer than the pong timeout: only the answers keep the socket open.
    for n in range(6):
        frame = await socket.receive_json_from(timeout=2)
        while frame["type"] != "ping":
            frame = await socket.receive_json_from(timeout=2)
        tokens.add(frame["token"])
        await socket.send_json_to({"type": "pong", "token": frame["token"]})
        # Something new to confirm, or there would be no next ping.
        await sync_to_async(comment_services.comment_post)(post=post, author=reader, body=f"round {n}")
    assert len(tokens) == 6, "each ping carries a token of its own"

    last = await socket.receive_json_from()
    assert (last["type"], last["comment"]["body"]) == ("comment.created", "round 5")


async def test_an_idle_reader_with_everything_confirmed_is_not_pinged_again(sockets, post, quick_pings):
    """A ping and its pong cost the server about as much as a small broadcast: idle sockets are spared."""
    socket, _ = await sockets.connect(post.pk)
    # hello, then presence (twice: the process announces its count within a second) are confirmed...
    answered = 0
    while answered < 5 and not await socket.receive_nothing(timeout=1):
        ping = await socket.receive_json_from()
        assert ping["type"] == "ping"
        await socket.send_json_to({"type": "pong", "token": ping["token"]})
        answered += 1
    # ...and then ten ping intervals pass without a ping (or a close).
    assert 1 <= answered <= 3


async def test_a_reader_that_sends_but_never_answers_is_closed_after_the_pong_timeout(sockets, post, quick_pings):
    socket, _ = await sockets.connect(post.pk)
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def keep_sending() -> None:
        while True:
            await socket.send_json_to({"type": "pong", "token": "a guess"})
            await asyncio.sleep(0.02)

    sender = asyncio.create_task(keep_sending())
    try:
        frames, code = await until_closed(socket)
    finally:
        sender.cancel()
    assert code == 4408
    # The first ping goes out after 0.1 s, and is overdue 0.3 s later.
    assert 0.35 <= loop.time() - started < 2
    assert any(json.loads(frame)["type"] == "ping" for frame in frames)


async def test_a_reader_that_never_answers_is_closed_before_the_unread_bound(sockets, post, reader, small_unread_bound):
    socket, _ = await sockets.connect(post.pk)
    comment_ids = await post_big_comments(post, reader, 20)

    frames, code = await until_closed(socket)

    assert code == 4408
    comments = [frame for frame in frames if json.loads(frame)["type"] == "comment.created"]
    assert 0 < len(comments) < len(comment_ids), "closed once the bound was reached, not before, not never"
    assert sum(frame_bytes(frame) for frame in frames) <= UNREAD_BOUND


async def test_a_reader_that_keeps_up_gets_everything_under_the_same_bound(sockets, post, reader, small_unread_bound):
    socket, _ = await sockets.connect(post.pk)
    posting = asyncio.ensure_future(post_big_comments(post, reader, 20))
    received = []
    while len(received) < 20:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == "ping":
            await socket.send_json_to({"type": "pong", "token": frame["token"]})
        elif frame["type"] == "comment.created":
            received.append(frame["comment"]["id"])
    assert received == await posting
    assert await socket.receive_nothing(timeout=0.2)


async def test_a_dropped_reader_resumes_and_misses_nothing(sockets, post, reader, author, small_unread_bound):
    first = await sync_to_async(make_comment)(post, author, body="before the page loaded")
    socket, _ = await sockets.connect(post.pk, query=f"after={first.pk}&changes_after=0")
    await sync_to_async(comment_services.comment_edit)(comment=first, actor=author, body="edited while reading")
    await post_big_comments(post, reader, 12)

    frames, code = await until_closed(socket)
    assert code == 4408
    seen = [json.loads(frame) for frame in frames]
    await sync_to_async(comment_services.comment_delete)(comment=first, actor=author)
    await post_big_comments(post, reader, 2)

    last_id = max(frame["comment"]["id"] for frame in seen if frame["type"] == "comment.created")
    last_change = max(frame["change"] for frame in seen if "change" in frame)
    again, _ = await sockets.connect(post.pk, query=f"after={last_id}&changes_after={last_change}")
    while not await again.receive_nothing(timeout=0.3):
        seen.append(await again.receive_json_from())

    created = [frame["comment"]["id"] for frame in seen if frame["type"] == "comment.created"]
    expected = [pk async for pk in Comment.objects.order_by("id").values_list("id", flat=True)]
    assert created == expected
    assert [frame["type"] for frame in seen if "change" in frame] == ["comment.updated", "comment.deleted"]


async def test_a_backlog_larger_than_the_unread_bound_asks_for_a_resync(sockets, post, reader, small_unread_bound):
    """No pong can be read while the backlog is sent, so a long one would close a reader that reads."""
    await post_big_comments(post, reader, 12)
    socket, _ = await sockets.connect(post.pk, query="after=0")
    assert await socket.receive_json_from() == {"type": "resync"}
    assert await socket.receive_nothing()


async def test_a_pong_with_a_token_that_is_not_text_is_invalid(sockets, post):
    socket, _ = await sockets.connect(post.pk)
    await socket.send_json_to({"type": "pong", "token": 7})
    error = await socket.receive_json_from()
    assert (error["type"], error["code"], list(error["errors"])) == ("error", "invalid", ["token"])


async def test_pings_of_sockets_woken_together_fall_due_at_different_times():
    """Every reader of a post wakes at the same comment; their pings must not all fire in one loop turn."""
    limits = HeartbeatLimits(ping_seconds=30, ping_bytes=1 << 20, pong_timeout_seconds=60, max_unread_bytes=1 << 20)

    async def discard(_: str) -> None:
        pass

    beats = [Heartbeat(send=discard, close=discard, limits=limits) for _ in range(50)]
    for beat in beats:
        beat.start()
        await beat.send("a comment")
    due = [beat.timer.when() for beat in beats]
    for beat in beats:
        beat.stop()
    assert max(due) - min(due) > 0.1 * limits.ping_seconds


async def test_a_pong_read_after_its_deadline_does_not_confirm(monkeypatch):
    """The deadline's timer may run late on a busy loop; a pong read before it is still too late."""
    limits = HeartbeatLimits(ping_seconds=30, ping_bytes=1 << 20, pong_timeout_seconds=0.5, max_unread_bytes=1 << 20)
    sent, closed = [], []

    async def send(text: str) -> None:
        sent.append(json.loads(text))

    async def close(reason: str) -> None:
        closed.append(reason)

    clock = [1000.0]
    monkeypatch.setattr("realtime.heartbeat.time.monotonic", lambda: clock[0])
    beat = Heartbeat(send=send, close=close, limits=limits)
    await beat.send(json.dumps({"type": "hello"}))
    await beat.ping()
    await beat.ping()
    late, in_time = sent[1]["token"], sent[2]["token"]
    clock[0] += 0.5
    assert beat.answered(late) is False
    assert beat.overdue(clock[0]), "still unanswered: the timer closes the socket"
    # In time, the same answer confirms.
    clock[0] -= 0.1
    assert beat.answered(in_time) is True
    assert not beat.unanswered
    assert beat.unconfirmed_bytes == 0

"""Likes over the socket (comment.like), and every reader's counts kept live: at most one
comment.likes frame per post a second, with the final counts, and nothing for other posts."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from blog.comments import likes
from blog.models import Comment, CommentLike
from realtime import broadcast
from realtime.likes import FRAME_SECONDS, LikeCounts
from tests.factories import make_comment, make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)


async def answer_to(socket, frame: dict) -> dict:
    """The sender's ack or error; the broadcasts before it wait in socket.pending for the next read."""
    await socket.send_json_to(frame)
    skipped = []
    while (reply := await socket.receive_json_from())["type"] not in {"comment.ack", "error"}:
        skipped.append(reply)
    socket.pending[:0] = skipped
    return reply


async def likes_frames_until(socket, expected: dict[str, int], timeout: float = 5) -> list[tuple[float, dict]]:
    """Every comment.likes frame, with when it came, until the counts add up to `expected`."""
    frames, counts = [], {}
    deadline = time.monotonic() + timeout
    while counts != expected:
        frame = await socket.receive_json_from(timeout=max(0.01, deadline - time.monotonic()))
        if frame["type"] == "comment.likes":
            frames.append((time.monotonic(), frame))
            counts.update(frame["counts"])
    return frames


async def test_a_like_over_the_socket_is_acked_and_every_reader_gets_the_count(sockets, post, author, reader):
    comment = await sync_to_async(make_comment)(post, author)
    liker, _ = await sockets.connect(post.pk, user=reader)
    other, _ = await sockets.connect(post.pk)
    ack = await answer_to(liker, {"type": "comment.like", "id": comment.pk, "liked": True, "client_id": "l1"})
    assert ack == {"type": "comment.ack", "client_id": "l1", "id": comment.pk, "liked": True, "likes": 1}
    for socket in (liker, other):
        assert (await likes_frames_until(socket, {str(comment.pk): 1}))[-1][1] == {
            "type": "comment.likes",
            "counts": {str(comment.pk): 1},
        }
    unliked = await answer_to(liker, {"type": "comment.like", "id": comment.pk, "liked": False})
    assert (unliked["liked"], unliked["likes"]) == (False, 0)
    assert not await CommentLike.objects.aexists()


async def test_an_anonymous_reader_must_log_in_to_like(sockets, post, author):
    comment = await sync_to_async(make_comment)(post, author)
    socket, _ = await sockets.connect(post.pk)
    error = await answer_to(socket, {"type": "comment.like", "id": comment.pk, "liked": True})
    assert (error["code"], error["message"]) == ("login_required", likes.MESSAGE_LOGIN_TO_LIKE)


async def test_ones_own_comment_is_forbidden(sockets, post, reader):
    comment = await sync_to_async(make_comment)(post, reader)
    socket, _ = await sockets.connect(post.pk, user=reader)
    error = await answer_to(socket, {"type": "comment.like", "id": comment.pk, "liked": True})
    assert (error["code"], error["message"]) == ("forbidden", likes.MESSAGE_LIKE_OWN)


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.HIDDEN])
async def test_a_comment_readers_cannot_see_is_no_such_comment(sockets, post, author, reader, status):
    held = await sync_to_async(make_comment)(post, author, status=status)
    elsewhere = await sync_to_async(make_comment)(await sync_to_async(make_post)(author), author)
    socket, _ = await sockets.connect(post.pk, user=reader)
    for comment in (held, elsewhere):
        error = await answer_to(socket, {"type": "comment.like", "id": comment.pk, "liked": True})
        assert (error["code"], error["errors"]) == ("invalid", {"id": ["There is no such comment on this post."]})
    assert not await CommentLike.objects.aexists()


async def test_liked_must_be_true_or_false(sockets, post, author, reader):
    comment = await sync_to_async(make_comment)(post, author)
    socket, _ = await sockets.connect(post.pk, user=reader)
    for value in (None, 1, "yes"):
        error = await answer_to(socket, {"type": "comment.like", "id": comment.pk, "liked": value})
        assert error["code"] == "invalid" and "liked" in error["errors"]


@override_settings(BLOG_COMMENT_RATE_LIMIT=(2, 60))
async def test_likes_over_the_socket_spend_the_write_budget(sockets, post, author, reader):
    comment = await sync_to_async(make_comment)(post, author)
    socket, _ = await sockets.connect(post.pk, user=reader)
    for liked in (True, False):
        assert (await answer_to(socket, {"type": "comment.like", "id": comment.pk, "liked": liked}))["type"] == (
            "comment.ack"
        )
    error = await answer_to(socket, {"type": "comment.like", "id": comment.pk, "liked": True, "client_id": "l3"})
    assert (error["code"], error["client_id"]) == ("rate_limited", "l3")
    assert 1 <= error["retry_after"] <= 60


@override_settings(BLOG_COMMENT_RATE_LIMIT=None)
async def test_fifty_likes_in_a_burst_reach_a_reader_in_at_most_a_frame_a_second_with_the_final_counts(
    sockets, post, author
):
    comments = [await sync_to_async(make_comment)(post, author, body=f"comment {n}") for n in range(5)]
    fans = [await sync_to_async(make_user)() for _ in range(10)]
    reader, _ = await sockets.connect(post.pk)
    elsewhere_post = await sync_to_async(make_post)(author)
    elsewhere, _ = await sockets.connect(elsewhere_post.pk)

    def burst() -> None:
        for fan in fans:
            for comment in comments:
                likes.comment_like(comment=comment, actor=fan, liked=True)

    # Read while the likes are saved, so each frame's time is when it came.
    collected = asyncio.ensure_future(likes_frames_until(reader, {str(comment.pk): 10 for comment in comments}, 30))
    started = time.monotonic()
    await sync_to_async(burst)()
    took = time.monotonic() - started
    frames = await collected

    times = [at for at, _ in frames]
    # The first like's frame at once, then one a second at most, however many likes came meanwhile.
    assert len(frames) <= 2 + int(took / FRAME_SECONDS), (len(frames), took)
    assert all(later - earlier >= FRAME_SECONDS * 0.9 for earlier, later in zip(times, times[1:], strict=False))
    assert frames[-1][0] - started <= took + 1.5 * FRAME_SECONDS
    assert await reader.receive_nothing(timeout=1.2 * FRAME_SECONDS)
    # Readers of another post hear nothing of it.
    assert await elsewhere.receive_nothing(timeout=0.2)


class FakeHub:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def hand_on(self, group: str, event: dict) -> None:
        self.sent.append((group, event))


async def test_a_count_that_arrives_late_never_replaces_a_newer_one():
    """Processes send their likes each on its own; the post's likes version says which is newer."""
    hub = FakeHub()
    counts = LikeCounts(hub)
    first = broadcast.comment_likes_event(1, comment_id=7, likes=3, version=10)
    await counts.record(first)  # sent at once
    await counts.record(broadcast.comment_likes_event(1, comment_id=7, likes=5, version=12))
    await counts.record(broadcast.comment_likes_event(1, comment_id=7, likes=4, version=11))  # late
    await asyncio.sleep(FRAME_SECONDS * 1.2)
    frames = [event["frame"] for _, event in hub.sent]
    assert frames == ['{"type":"comment.likes","counts":{"7":3}}', '{"type":"comment.likes","counts":{"7":5}}']
    assert {group for group, _ in hub.sent} == {broadcast.post_group_name(1)}
    counts.stop()

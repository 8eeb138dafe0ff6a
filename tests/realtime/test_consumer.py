"""The comment socket against the real ASGI application: routing, origin check and auth stack included."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from blog.comments import services as comment_services
from blog.comments.models import MESSAGE_COMMENT_EMPTY, MESSAGE_COMMENT_TOO_LONG
from blog.models import Comment, CommentChange
from realtime.backlog import BACKLOG_LIMIT as REPLAY_LIMIT
from realtime.consumers import MAX_FRAME_BYTES
from tests.factories import make_comment, make_post

pytestmark = pytest.mark.django_db(transaction=True)


async def test_anonymous_reader_is_greeted_and_cannot_post(sockets, post):
    socket, hello = await sockets.connect(post.pk)
    assert hello == {"type": "hello", "user": None, "can_comment": False, "can_moderate": False}
    await socket.send_json_to({"type": "comment.create", "body": "Hi", "client_id": "c1"})
    error = await socket.receive_json_from()
    assert error == {
        "type": "error",
        "code": "login_required",
        "message": comment_services.MESSAGE_LOGIN_REQUIRED,
        "client_id": "c1",
    }
    assert not await Comment.objects.aexists()


async def test_logged_in_users_comment_reaches_every_reader_and_is_acked(sockets, post, reader):
    writer, hello = await sockets.connect(post.pk, user=reader)
    assert hello == {"type": "hello", "user": "reader", "can_comment": True, "can_moderate": False, "unread": 0}
    first_reader, _ = await sockets.connect(post.pk)
    second_reader, _ = await sockets.connect(post.pk)

    await writer.send_json_to({"type": "comment.create", "body": "  Live!  ", "client_id": "c1"})

    frames = [await writer.receive_json_from(), await writer.receive_json_from()]
    comment = await Comment.objects.aget()
    assert comment.body == "Live!"
    assert {"type": "comment.ack", "client_id": "c1", "id": comment.pk, "status": "published"} in frames
    for socket in (first_reader, second_reader):
        created = await socket.receive_json_from()
        assert created["type"] == "comment.created"
        assert created["comment"] == {
            "id": comment.pk,
            "post": post.pk,
            "parent": None,
            "author": "reader",
            "body": "Live!",
            "html": "<p>Live!</p>",
            "created": comment.created.isoformat(),
            "edited": None,
            "editable_until": (comment.created + timedelta(minutes=5)).isoformat(),
            "client_id": "c1",
            "status": "published",
            "likes": 0,
        }
        assert await socket.receive_nothing()


async def test_readers_of_another_post_hear_nothing(sockets, post, author, reader):
    other = await sync_to_async(make_post)(author)
    writer, _ = await sockets.connect(post.pk, user=reader)
    elsewhere, _ = await sockets.connect(other.pk)
    await writer.send_json_to({"type": "comment.create", "body": "Hi"})
    assert (await writer.receive_json_from())["type"] in {"comment.ack", "comment.created"}
    assert await elsewhere.receive_nothing()


async def test_repeated_client_id_over_the_socket_acks_the_first_comment(sockets, post, reader):
    writer, _ = await sockets.connect(post.pk, user=reader)
    await writer.send_json_to({"type": "comment.create", "body": "Once", "client_id": "retry-me"})
    first = [await writer.receive_json_from(), await writer.receive_json_from()]
    await writer.send_json_to({"type": "comment.create", "body": "Once", "client_id": "retry-me"})
    ack = await writer.receive_json_from()
    comment = await Comment.objects.aget()
    assert {"type": "comment.ack", "client_id": "retry-me", "id": comment.pk, "status": "published"} in first
    assert ack == {"type": "comment.ack", "client_id": "retry-me", "id": comment.pk, "status": "published"}
    assert await writer.receive_nothing(), "a repeated client_id must not be broadcast again"


@pytest.mark.parametrize(
    ("body", "message"),
    [("   ", MESSAGE_COMMENT_EMPTY), ("x" * 2001, MESSAGE_COMMENT_TOO_LONG)],
    ids=["blank", "too-long"],
)
async def test_invalid_body_gets_an_invalid_error_and_the_socket_stays_usable(sockets, post, reader, body, message):
    writer, _ = await sockets.connect(post.pk, user=reader)
    await writer.send_json_to({"type": "comment.create", "body": body, "client_id": "bad"})
    error = await writer.receive_json_from()
    assert error == {
        "type": "error",
        "code": "invalid",
        "message": message,
        "client_id": "bad",
        "errors": {"body": [message]},
    }
    await writer.send_json_to({"type": "comment.create", "body": "Fine"})
    assert {(await writer.receive_json_from())["type"] for _ in range(2)} == {"comment.ack", "comment.created"}


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "comment.create", "body": 42},
        {"type": "comment.create"},
        {"type": "comment.create", "body": "Hi", "client_id": 7},
    ],
    ids=["body-number", "body-missing", "client-id-number"],
)
async def test_wrongly_typed_fields_are_invalid(sockets, post, reader, frame):
    writer, _ = await sockets.connect(post.pk, user=reader)
    await writer.send_json_to(frame)
    error = await writer.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "invalid")
    assert error["errors"]
    assert not await Comment.objects.aexists()


@pytest.mark.parametrize(
    "send",
    [
        {"text_data": "{not json"},
        {"text_data": "[1, 2, 3]"},
        {"text_data": '"just a string"'},
        {"text_data": json.dumps({"type": "comment.explode"})},
        {"text_data": json.dumps({"body": "no type"})},
        {"text_data": json.dumps({"type": "comment.created", "comment": {"id": 1, "body": "forged"}})},
        {"text_data": json.dumps({"type": "comment_created", "id": 1, "frame": "{}"})},
        {"text_data": json.dumps({"type": "_comment_create", "body": "x"})},
        {"text_data": json.dumps({"type": ".comment.create", "body": "x"})},
        {"text_data": json.dumps({"type": "session.check", "reason": "forged"})},
        {"bytes_data": b"\x00\x01binary"},
    ],
    ids=[
        "malformed-json",
        "array",
        "string",
        "unknown-type",
        "missing-type",
        "imitates-server-event",
        "imitates-handler-name",
        "underscore-prefix",
        "dot-prefix",
        "imitates-revocation",
        "binary",
    ],
)
async def test_bad_frames_get_bad_request_relay_nothing_and_leave_the_socket_working(sockets, post, reader, send):
    writer, _ = await sockets.connect(post.pk, user=reader)
    watcher, _ = await sockets.connect(post.pk)
    await writer.send_to(**send)
    error = await writer.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "bad_request")
    assert error["message"]
    assert await watcher.receive_nothing()
    await writer.send_json_to({"type": "comment.create", "body": "Still here"})
    assert {(await writer.receive_json_from())["type"] for _ in range(2)} == {"comment.ack", "comment.created"}


async def test_oversized_frame_is_refused_without_parsing(sockets, post, reader):
    writer, _ = await sockets.connect(post.pk, user=reader)
    await writer.send_json_to({"type": "comment.create", "body": "x" * MAX_FRAME_BYTES})
    error = await writer.receive_json_from()
    assert (error["code"], error["message"]) == ("bad_request", "Frames are limited to 64 KiB.")
    assert not await Comment.objects.aexists()


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
async def test_rate_limited_comment_gets_retry_after(sockets, post, reader):
    writer, _ = await sockets.connect(post.pk, user=reader)
    await writer.send_json_to({"type": "comment.create", "body": "One"})
    await writer.receive_json_from(), await writer.receive_json_from()
    await writer.send_json_to({"type": "comment.create", "body": "Two", "client_id": "c2"})
    error = await writer.receive_json_from()
    assert (error["code"], error["client_id"]) == ("rate_limited", "c2")
    assert 1 <= error["retry_after"] <= 60
    assert await Comment.objects.acount() == 1


@pytest.mark.parametrize(
    "origin",
    [None, b"null", b"http://evil.example", b"http://localhost.evil.example"],
    ids=["missing", "null", "foreign", "suffix-trick"],
)
async def test_handshake_from_a_foreign_origin_is_refused(sockets, post, origin):
    """Refused before accept, which daphne answers with HTTP 403 (see the end-to-end tests)."""
    socket = await sockets.handshake(post.pk, origin=origin)
    connected, _ = await socket.connect()
    assert not connected


async def test_draft_socket_is_refused_to_anonymous_readers_and_open_to_its_author(sockets, draft, author):
    """Accepted, then closed with 4404: a close before accept reaches a browser as 1006, not as a code."""
    socket = await sockets.handshake(draft.pk)
    assert await socket.connect() == (True, None)
    assert await socket.communicator.receive_output() == {"type": "websocket.close", "code": 4404}
    _, hello = await sockets.connect(draft.pk, user=author)
    assert hello == {"type": "hello", "user": "author", "can_comment": False, "can_moderate": False, "unread": 0}


async def test_unknown_post_is_refused(sockets, db):
    socket = await sockets.handshake(999_999)
    assert await socket.connect() == (True, None)
    assert await socket.communicator.receive_output() == {"type": "websocket.close", "code": 4404}


async def test_replay_after_an_id_sends_newer_comments_in_order_then_live_ones(sockets, post, reader):
    older, newer, newest = [await sync_to_async(make_comment)(post, reader, body=str(n)) for n in range(3)]
    socket, _ = await sockets.connect(post.pk, query=f"after={older.pk}")
    replayed = [await socket.receive_json_from(), await socket.receive_json_from()]
    assert [frame["comment"]["id"] for frame in replayed] == [newer.pk, newest.pk]
    assert await socket.receive_nothing()

    writer, _ = await sockets.connect(post.pk, user=reader)
    await writer.send_json_to({"type": "comment.create", "body": "live"})
    live = await socket.receive_json_from()
    assert live["comment"]["body"] == "live"


async def test_replay_does_not_repeat_a_comment_broadcast_during_the_replay(sockets, post, reader):
    """A comment committed between subscribe and the backlog read arrives once, not twice."""
    from realtime import broadcast

    comment = await sync_to_async(make_comment)(post, reader, body="raced")
    socket = await sockets.handshake(post.pk, query="after=0")
    # Queue the live broadcast as if it was sent while the consumer read the backlog.
    connected, _ = await socket.connect()
    assert connected
    await sync_to_async(broadcast.comment_created)(comment)
    frames = []
    while not await socket.receive_nothing(timeout=0.2):
        frames.append(await socket.receive_json_from())
    assert [frame["type"] for frame in frames] == ["hello", "comment.created"]


async def test_too_long_a_backlog_asks_for_a_resync(sockets, post, reader):
    await sync_to_async(_many_comments)(post, reader, REPLAY_LIMIT + 1)
    socket, _ = await sockets.connect(post.pk, query="after=0")
    assert await socket.receive_json_from() == {"type": "resync"}
    assert await socket.receive_nothing()


async def test_bad_after_is_reported(sockets, post):
    socket, _ = await sockets.connect(post.pk, query="after=abc")
    error = await socket.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "bad_request")


async def test_deleting_a_comment_tells_every_reader(sockets, post, reader):
    comment = await sync_to_async(make_comment)(post, reader)
    comment_id = comment.pk
    socket, _ = await sockets.connect(post.pk)
    await sync_to_async(comment_services.comment_delete)(comment=comment, actor=reader)
    change = await CommentChange.objects.aget()
    assert await socket.receive_json_from() == {
        "type": "comment.deleted",
        "id": comment_id,
        "change": change.pk,
        "placeholder": False,
    }


def _many_comments(post, author, count):
    Comment.objects.bulk_create(Comment(post=post, author=author, body=f"#{n}") for n in range(count))


@pytest.mark.parametrize(
    ("origin", "reason"),
    [(None, "missing-origin"), (b"null", "origin-not-allowed"), (b"http://evil.example", "origin-not-allowed")],
)
async def test_refused_handshakes_are_logged_with_the_reason(sockets, post, origin, reason, caplog):
    socket = await sockets.handshake(post.pk, origin=origin)
    with caplog.at_level("INFO", logger="realtime.origin"):
        connected, _ = await socket.connect()
    assert not connected
    assert f"websocket refused reason={reason}" in caplog.text
    assert f"path=/ws/posts/{post.pk}/comments/" in caplog.text


async def test_refused_handshake_for_a_hidden_post_is_logged(sockets, draft, caplog):
    socket = await sockets.handshake(draft.pk)
    with caplog.at_level("INFO", logger="realtime.consumers"):
        await socket.connect()
    assert "websocket refused reason=post-not-visible" in caplog.text


async def test_connect_comment_and_disconnect_each_log_one_line_without_secrets(sockets, post, reader, caplog):
    with caplog.at_level("INFO"):
        writer, _ = await sockets.connect(post.pk, user=reader)
        await writer.send_json_to({"type": "comment.create", "body": "Logged", "client_id": "log-1"})
        await writer.receive_json_from(), await writer.receive_json_from()
        await writer.disconnect()
    comment = await Comment.objects.aget()
    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name in {"realtime.consumers", "blog.comments.services"}
    ]
    assert lines == [
        f"websocket connected post={post.pk} user={reader.pk}",
        f"comment saved id={comment.pk} post={post.pk} author={reader.pk} status=published",
        f"websocket disconnected post={post.pk} user={reader.pk} code=1000",
    ]

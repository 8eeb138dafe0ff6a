"""No frame or field crashes a socket: every hostile value gets an error code, and the socket keeps working."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from asgi_blog.asgi import application
from blog.models import Comment
from tests.factories import make_comment
from tests.realtime.conftest import ALLOWED_ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

NESTED = object()  # stands for 30,000 nested arrays, written into the frame's text
HOSTILE_VALUES = {
    "nested-30000": NESTED,
    "null": None,
    "true": True,
    "float": 1.5,
    "negative": -1,
    "huge": 2**70,
    "list": [],
    "object": {},
    "nul": "x\u0000",
    "lone-surrogate": "\ud800",  # sent as the JSON escape \ud800
    "70-chars": "x" * 70,
}
# Values that are right for a field: a 70-character body is a fine comment, client_id may be null.
VALID_FOR = {"body": {"70-chars"}, "client_id": {"null"}, "liked": {"true"}}
FRAMES = {
    "comment.create": {"type": "comment.create", "body": "Hi", "client_id": "c1"},
    "comment.edit": {"type": "comment.edit", "id": None, "body": "Edited", "client_id": "c2"},
    "comment.delete": {"type": "comment.delete", "id": None, "client_id": "c3"},
    "comment.like": {"type": "comment.like", "id": None, "liked": True, "client_id": "c4"},
}
CASES = [(frame_type, field) for frame_type, frame in FRAMES.items() for field in frame]


def frame_text(frame: dict, field: str, value: object) -> str:
    """The frame with `field` set to `value`, as JSON text (non-ASCII as escapes, so a lone surrogate travels)."""
    if value is not NESTED:
        return json.dumps({**frame, field: value})
    text = json.dumps({**frame, field: "@nested@"})
    return text.replace('"@nested@"', "[" * 30_000 + "]" * 30_000)


async def still_answers(socket, n: int) -> None:
    await socket.send_json_to({"type": "comment.create", "body": f"still here {n}"})
    assert {(await socket.receive_json_from())["type"] for _ in range(2)} == {"comment.ack", "comment.created"}


@pytest.mark.parametrize(("frame_type", "field"), CASES, ids=[f"{t}-{f}" for t, f in CASES])
async def test_hostile_values_in_any_field_get_an_error_code_and_the_socket_keeps_working(
    sockets, post, reader, settings, frame_type, field
):
    settings.BLOG_COMMENT_RATE_LIMIT = None
    comment = await sync_to_async(make_comment)(post, reader, body="Mine")
    frame = {**FRAMES[frame_type], **({"id": comment.pk} if "id" in FRAMES[frame_type] else {})}
    socket, _ = await sockets.connect(post.pk, user=reader)

    for n, (name, value) in enumerate(HOSTILE_VALUES.items()):
        if name in VALID_FOR.get(field, ()):
            continue
        await socket.send_to(text_data=frame_text(frame, field, value))
        answer = await socket.receive_json_from()
        assert answer["type"] == "error", f"{name}: {answer}"
        assert answer["code"] in {"bad_request", "invalid"}, f"{name}: {answer}"
        assert answer["message"], name
        await still_answers(socket, n)

    assert await Comment.objects.filter(pk=comment.pk, body="Mine").aexists(), "nothing was edited or deleted"


async def test_hostile_tokens_in_a_pong_are_refused_or_ignored_and_the_socket_keeps_working(
    sockets, post, reader, settings
):
    """A token that is not text is invalid; text that is no ping's token is ignored (a stale pong is harmless)."""
    settings.BLOG_COMMENT_RATE_LIMIT = None
    socket, _ = await sockets.connect(post.pk, user=reader)
    for n, (name, value) in enumerate(HOSTILE_VALUES.items()):
        await socket.send_to(text_data=frame_text({"type": "pong", "token": "t"}, "token", value))
        if isinstance(value, str):
            assert await socket.receive_nothing(), name
        else:
            answer = await socket.receive_json_from()
            assert (answer["type"], answer["code"]) in {("error", "bad_request"), ("error", "invalid")}, name
        await still_answers(socket, n)


async def test_a_client_id_that_cannot_be_stored_or_echoed_is_invalid(sockets, post, reader):
    socket, _ = await sockets.connect(post.pk, user=reader)
    await socket.send_to(text_data=json.dumps({"type": "comment.create", "body": "Hi", "client_id": "a\ud800"}))
    error = await socket.receive_json_from()
    assert (error["code"], list(error["errors"]), error["client_id"]) == ("invalid", ["client_id"], None)
    assert not await Comment.objects.aexists()


@pytest.mark.parametrize(
    "path",
    ["/ws/nope/", "/ws/posts/abc/comments/", "/ws/posts/1/comments/extra/"],
    ids=["other", "not-a-number", "longer"],
)
async def test_a_handshake_to_a_path_with_no_socket_is_refused_not_crashed(db, path):
    """Refused before accept, which daphne answers with 403; unrouted, Channels would raise (500)."""
    communicator = WebsocketCommunicator(
        application, path, headers=[(b"host", b"localhost"), (b"origin", ALLOWED_ORIGIN)]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_a_post_id_too_large_for_the_database_is_not_found(sockets, db):
    socket = await sockets.handshake(2**70)
    assert await socket.connect() == (True, None)
    assert await socket.communicator.receive_output() == {"type": "websocket.close", "code": 4404}

"""A bad comment gets the same code and message over HTTP and over the socket."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from blog.comments.models import MESSAGE_COMMENT_EMPTY, MESSAGE_COMMENT_NUL, MESSAGE_COMMENT_TOO_LONG
from blog.models import Comment
from tests.realtime.conftest import logged_in_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", MESSAGE_COMMENT_EMPTY),
        ("   \n ", MESSAGE_COMMENT_EMPTY),
        ("x" * 2001, MESSAGE_COMMENT_TOO_LONG),
        ("nul \x00 inside", MESSAGE_COMMENT_NUL),
    ],
    ids=["empty", "whitespace", "too-long", "nul"],
)
async def test_bad_body_is_invalid_with_the_same_message_on_both_transports(sockets, post, reader, body, message):
    client = await sync_to_async(logged_in_client)(reader)
    response = await sync_to_async(client.post)(
        f"/blog/posts/{post.pk}/comments/", {"body": body}, HTTP_ACCEPT="application/json"
    )
    socket, _ = await sockets.connect(post.pk, user=reader)
    await socket.send_json_to({"type": "comment.create", "body": body})
    frame = await socket.receive_json_from()

    assert response.status_code == 400
    over_http = response.json()
    assert (over_http["code"], over_http["message"], over_http["errors"]) == ("invalid", message, {"body": [message]})
    assert (frame["code"], frame["message"], frame["errors"]) == ("invalid", message, {"body": [message]})
    assert not await Comment.objects.aexists()


async def test_lone_surrogate_is_invalid_over_the_socket(sockets, post, reader):
    """HTTP form decoding replaces invalid UTF-8, so only JSON can carry a lone surrogate."""
    socket, _ = await sockets.connect(post.pk, user=reader)
    await socket.send_to(text_data='{"type": "comment.create", "body": "half \\ud800 a pair"}')
    frame = await socket.receive_json_from()
    assert (frame["code"], frame["errors"]) == ("invalid", {"body": ["Comments must be valid Unicode text."]})
    assert not await Comment.objects.aexists()


@override_settings(BLOG_COMMENT_RATE_LIMIT=(2, 60))
async def test_http_and_socket_spend_one_comment_budget(sockets, post, reader):
    client = await sync_to_async(logged_in_client)(reader)
    socket, _ = await sockets.connect(post.pk, user=reader)
    url = f"/blog/posts/{post.pk}/comments/"
    assert (await sync_to_async(client.post)(url, {"body": "1"}, HTTP_ACCEPT="application/json")).status_code == 201
    await socket.receive_json_from()  # its broadcast
    await socket.send_json_to({"type": "comment.create", "body": "2"})
    assert {(await socket.receive_json_from())["type"] for _ in range(2)} == {"comment.ack", "comment.created"}
    await socket.send_json_to({"type": "comment.create", "body": "3"})
    assert (await socket.receive_json_from())["code"] == "rate_limited"
    response = await sync_to_async(client.post)(url, {"body": "4"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 429
    assert await Comment.objects.acount() == 2

"""Edits and deletions over the socket spend the same write budget as comments and HTTP."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from blog.models import Comment
from tests.factories import make_comment
from tests.realtime.conftest import logged_in_client

pytestmark = pytest.mark.django_db(transaction=True)


async def answer_to(socket, frame: dict) -> dict:
    """The writer's ack or error for `frame`, skipping the broadcasts it causes."""
    await socket.send_json_to(frame)
    while (reply := await socket.receive_json_from())["type"] not in {"comment.ack", "error"}:
        pass
    return reply


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
async def test_an_edit_over_the_budget_is_rate_limited(sockets, post, reader):
    comment = await sync_to_async(make_comment)(post, reader, body="one")
    socket, _ = await sockets.connect(post.pk, user=reader)
    assert (await answer_to(socket, {"type": "comment.edit", "id": comment.pk, "body": "two"}))["type"] == "comment.ack"
    error = await answer_to(socket, {"type": "comment.edit", "id": comment.pk, "body": "three", "client_id": "e2"})
    assert (error["code"], error["client_id"]) == ("rate_limited", "e2")
    assert 1 <= error["retry_after"] <= 60
    assert (await Comment.objects.aget(pk=comment.pk)).body == "two"


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
async def test_a_deletion_over_the_budget_is_rate_limited(sockets, post, reader):
    first = await sync_to_async(make_comment)(post, reader)
    second = await sync_to_async(make_comment)(post, reader)
    socket, _ = await sockets.connect(post.pk, user=reader)
    assert (await answer_to(socket, {"type": "comment.delete", "id": first.pk}))["type"] == "comment.ack"
    error = await answer_to(socket, {"type": "comment.delete", "id": second.pk})
    assert error["code"] == "rate_limited" and 1 <= error["retry_after"] <= 60
    assert await Comment.objects.filter(pk=second.pk).aexists()


@override_settings(BLOG_COMMENT_RATE_LIMIT=(2, 60))
async def test_http_and_socket_edits_and_deletions_share_one_budget(sockets, post, reader):
    comment = await sync_to_async(make_comment)(post, reader, body="one")
    doomed = await sync_to_async(make_comment)(post, reader)
    client = await sync_to_async(logged_in_client)(reader)
    socket, _ = await sockets.connect(post.pk, user=reader)
    edited = await sync_to_async(client.post)(
        f"/blog/comments/{comment.pk}/edit/", {"body": "two"}, HTTP_ACCEPT="application/json"
    )
    assert edited.status_code == 200
    assert (await answer_to(socket, {"type": "comment.edit", "id": comment.pk, "body": "three"}))["type"] == (
        "comment.ack"
    )
    assert (await answer_to(socket, {"type": "comment.delete", "id": doomed.pk}))["code"] == "rate_limited"
    deleted = await sync_to_async(client.post)(f"/blog/comments/{doomed.pk}/delete/", HTTP_ACCEPT="application/json")
    assert deleted.status_code == 429
    assert await Comment.objects.filter(pk=doomed.pk).aexists()


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
async def test_a_moderator_deletes_others_comments_over_the_socket_without_limit(sockets, post, reader, editor):
    comments = [await sync_to_async(make_comment)(post, reader) for _ in range(3)]
    socket, _ = await sockets.connect(post.pk, user=editor)
    for comment in comments:
        assert (await answer_to(socket, {"type": "comment.delete", "id": comment.pk}))["type"] == "comment.ack"
    assert not await Comment.objects.aexists()

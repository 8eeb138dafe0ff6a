"""Replies over the socket: posted with a parent, heard live by every reader, replayed on resume,
and a deleted parent's placeholder announced as one."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from blog.comments import services as comment_services
from blog.models import Comment, CommentChange
from realtime import broadcast
from tests.factories import make_comment, make_reply

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_reply_over_the_socket_reaches_every_reader_under_its_parent(sockets, post, author, reader):
    top = await sync_to_async(make_comment)(post, author, body="Question?")
    writer, _ = await sockets.connect(post.pk, user=reader)
    watcher, _ = await sockets.connect(post.pk)

    await writer.send_json_to({"type": "comment.create", "body": "Answer.", "parent": top.pk, "client_id": "r1"})

    created = await watcher.receive_json_from()
    saved = await Comment.objects.aget(body="Answer.")
    assert created["type"] == "comment.created"
    assert (created["comment"]["id"], created["comment"]["parent"]) == (saved.pk, top.pk)
    assert (saved.parent_id, saved.thread_id, saved.depth) == (top.pk, top.pk, 1)
    frames = [await writer.receive_json_from(), await writer.receive_json_from()]
    assert {"type": "comment.ack", "client_id": "r1", "id": saved.pk, "status": "published"} in frames


@pytest.mark.parametrize(
    ("parent", "message"),
    [
        ("7", comment_services.MESSAGE_PARENT_NOT_ID),
        (True, comment_services.MESSAGE_PARENT_NOT_ID),
        (2**70, comment_services.MESSAGE_PARENT_NOT_ID),
        (987654, comment_services.MESSAGE_NO_SUCH_PARENT),
    ],
)
async def test_a_bad_parent_over_the_socket_is_an_invalid_error_and_nothing_is_saved(
    sockets, post, reader, parent, message
):
    writer, _ = await sockets.connect(post.pk, user=reader)
    await writer.send_json_to({"type": "comment.create", "body": "Hi", "parent": parent, "client_id": "bad"})
    assert await writer.receive_json_from() == {
        "type": "error",
        "code": "invalid",
        "message": message,
        "errors": {"parent": [message]},
        "client_id": "bad",
    }
    assert not await Comment.objects.aexists()


async def test_deleting_a_parent_tells_readers_a_placeholder_stays(sockets, post, author, reader):
    top = await sync_to_async(make_comment)(post, author, body="Regrets")
    await sync_to_async(make_reply)(top, reader)
    watcher, _ = await sockets.connect(post.pk)
    await sync_to_async(comment_services.comment_delete)(comment=top, actor=author)
    change = await CommentChange.objects.aget()
    assert await watcher.receive_json_from() == {
        "type": "comment.deleted",
        "id": top.pk,
        "change": change.pk,
        "placeholder": True,
    }


async def test_a_resuming_reader_gets_the_replies_and_the_placeholder_it_missed(
    sockets, post, author, reader, monkeypatch
):
    top = await sync_to_async(make_comment)(post, author, body="Before the gap")
    monkeypatch.setattr(broadcast, "_group_send", lambda event: None)  # nobody hears them live
    answer = await sync_to_async(comment_services.comment_post)(
        post=post, author=reader, body="In the gap", parent_id=top.pk
    )
    await sync_to_async(comment_services.comment_delete)(comment=top, actor=author)
    deletion = await CommentChange.objects.aget()

    socket, _ = await sockets.connect(post.pk, query=f"after={top.pk}&changes_after=0")
    frames = [await socket.receive_json_from(), await socket.receive_json_from()]
    created = next(frame for frame in frames if frame["type"] == "comment.created")
    assert (created["comment"]["id"], created["comment"]["parent"]) == (answer.comment.pk, top.pk)
    assert {"type": "comment.deleted", "id": top.pk, "change": deletion.pk, "placeholder": True} in frames
    assert await socket.receive_nothing()


async def test_a_reply_is_edited_over_the_socket_like_any_comment(sockets, post, author, reader):
    top = await sync_to_async(make_comment)(post, author)
    answer = await sync_to_async(make_reply)(top, reader, body="tpyo")
    writer, _ = await sockets.connect(post.pk, user=reader)
    watcher, _ = await sockets.connect(post.pk)
    await writer.send_json_to({"type": "comment.edit", "id": answer.pk, "body": "typo", "client_id": "e1"})
    updated = await watcher.receive_json_from()
    assert updated["type"] == "comment.updated"
    assert (updated["comment"]["body"], updated["comment"]["parent"]) == ("typo", top.pk)

"""Deleting and editing comments over the socket; every reader hears of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from blog.comments import services as comment_services
from blog.models import Comment, CommentChange
from realtime import broadcast, hub
from realtime.consumers import MESSAGE_ID_NOT_NUMBER, MESSAGE_NO_SUCH_COMMENT
from tests.factories import make_comment, make_post

pytestmark = pytest.mark.django_db(transaction=True)


async def comment_by(post, user, body="Original"):
    return await sync_to_async(make_comment)(post, user, body=body)


async def test_author_deletes_over_the_socket_and_every_reader_hears(sockets, post, reader):
    comment = await comment_by(post, reader)
    author_socket, _ = await sockets.connect(post.pk, user=reader)
    watcher, _ = await sockets.connect(post.pk)
    await author_socket.send_json_to({"type": "comment.delete", "id": comment.pk, "client_id": "d1"})
    frames = [await author_socket.receive_json_from(), await author_socket.receive_json_from()]
    assert {"type": "comment.ack", "client_id": "d1", "id": comment.pk} in frames
    change = await CommentChange.objects.aget()
    deleted = {"type": "comment.deleted", "id": comment.pk, "change": change.pk, "placeholder": False}
    assert deleted in frames
    assert await watcher.receive_json_from() == deleted
    assert not await Comment.objects.aexists()


async def test_editor_deletes_anyones_comment_over_the_socket(sockets, post, reader, editor):
    comment = await comment_by(post, reader)
    moderator, hello = await sockets.connect(post.pk, user=editor)
    assert hello["can_moderate"] is True
    await moderator.send_json_to({"type": "comment.delete", "id": comment.pk})
    frames = {(await moderator.receive_json_from())["type"] for _ in range(2)}
    assert frames == {"comment.ack", "comment.deleted"}
    assert not await Comment.objects.aexists()


async def test_someone_else_gets_forbidden_and_nothing_changes(sockets, post, reader, author):
    comment = await comment_by(post, reader)
    other, _ = await sockets.connect(post.pk, user=author)
    watcher, _ = await sockets.connect(post.pk)
    await other.send_json_to({"type": "comment.delete", "id": comment.pk, "client_id": "x"})
    error = await other.receive_json_from()
    assert (error["code"], error["client_id"]) == ("forbidden", "x")
    await other.send_json_to({"type": "comment.edit", "id": comment.pk, "body": "Hijacked"})
    assert (await other.receive_json_from())["code"] == "forbidden"
    assert await watcher.receive_nothing()
    assert (await Comment.objects.aget()).body == "Original"


async def test_anonymous_reader_gets_login_required(sockets, post, reader):
    comment = await comment_by(post, reader)
    anonymous, _ = await sockets.connect(post.pk)
    await anonymous.send_json_to({"type": "comment.delete", "id": comment.pk})
    assert (await anonymous.receive_json_from())["code"] == "login_required"
    assert await Comment.objects.aexists()


async def test_author_edits_and_every_reader_gets_the_update(sockets, post, reader):
    comment = await comment_by(post, reader)
    author_socket, _ = await sockets.connect(post.pk, user=reader)
    watcher, _ = await sockets.connect(post.pk)
    await author_socket.send_json_to({"type": "comment.edit", "id": comment.pk, "body": "Improved", "client_id": "e1"})
    frames = [await author_socket.receive_json_from(), await author_socket.receive_json_from()]
    assert {"type": "comment.ack", "client_id": "e1", "id": comment.pk} in frames
    updated = await watcher.receive_json_from()
    assert updated["type"] == "comment.updated"
    saved = await Comment.objects.select_related("author").aget()
    assert updated["comment"] == saved.as_json()
    assert updated["comment"]["body"] == "Improved" and updated["comment"]["edited"] is not None


async def test_edit_past_the_window_is_forbidden_over_the_socket(sockets, post, reader):
    comment = await comment_by(post, reader)
    await Comment.objects.filter(pk=comment.pk).aupdate(created=timezone.now() - timedelta(minutes=6))
    author_socket, _ = await sockets.connect(post.pk, user=reader)
    await author_socket.send_json_to({"type": "comment.edit", "id": comment.pk, "body": "Late"})
    error = await author_socket.receive_json_from()
    assert (error["code"], error["message"]) == ("forbidden", comment_services.MESSAGE_EDIT_WINDOW_OVER)


@pytest.mark.parametrize(
    ("frame", "field", "message"),
    [
        ({"type": "comment.delete", "id": "7"}, "id", MESSAGE_ID_NOT_NUMBER),
        ({"type": "comment.delete", "id": True}, "id", MESSAGE_ID_NOT_NUMBER),
        ({"type": "comment.delete"}, "id", MESSAGE_ID_NOT_NUMBER),
        ({"type": "comment.delete", "id": 999_999}, "id", MESSAGE_NO_SUCH_COMMENT),
        ({"type": "comment.edit", "id": 1, "body": None}, "body", "body must be text."),
    ],
    ids=["id-string", "id-bool", "id-missing", "id-unknown", "body-missing"],
)
async def test_malformed_moderation_frames_are_invalid(sockets, post, reader, frame, field, message):
    author_socket, _ = await sockets.connect(post.pk, user=reader)
    await author_socket.send_json_to(frame)
    error = await author_socket.receive_json_from()
    assert (error["code"], error["errors"]) == ("invalid", {field: [message]})


async def test_a_comment_of_another_post_cannot_be_touched_from_this_socket(sockets, post, author, reader):
    elsewhere = await sync_to_async(make_post)(author)
    comment = await comment_by(elsewhere, reader)
    author_socket, _ = await sockets.connect(post.pk, user=reader)
    await author_socket.send_json_to({"type": "comment.delete", "id": comment.pk})
    assert (await author_socket.receive_json_from())["errors"] == {"id": [MESSAGE_NO_SUCH_COMMENT]}
    assert await Comment.objects.aexists()


async def test_a_reconnecting_reader_gets_the_edits_and_deletions_it_missed(sockets, post, reader, monkeypatch):
    monkeypatch.setattr(broadcast, "_group_send", lambda event: None)  # nobody hears them live
    kept = await comment_by(post, reader, body="kept")
    removed = await comment_by(post, reader, body="removed")
    removed_id = removed.pk  # Django clears pk on delete
    await sync_to_async(comment_services.comment_edit)(comment=kept, actor=reader, body="kept, edited")
    await sync_to_async(comment_services.comment_delete)(comment=removed, actor=reader)
    edit, deletion = [change async for change in CommentChange.objects.order_by("id")]

    socket, _ = await sockets.connect(post.pk, query=f"after={removed_id}&changes_after=0")
    updated = await socket.receive_json_from()
    assert (updated["type"], updated["change"], updated["comment"]["body"]) == (
        "comment.updated",
        edit.pk,
        "kept, edited",
    )
    assert await socket.receive_json_from() == {
        "type": "comment.deleted",
        "id": removed_id,
        "change": deletion.pk,
        "placeholder": False,
    }
    assert await socket.receive_nothing()

    up_to_date, _ = await sockets.connect(post.pk, query=f"after={removed_id}&changes_after={deletion.pk}")
    assert await up_to_date.receive_nothing()


async def test_a_deletion_the_layer_lost_reaches_readers_from_the_database(sockets, post, reader, monkeypatch):
    monkeypatch.setattr(hub, "CHECK_SECONDS", 0.1)
    comment = await comment_by(post, reader)
    comment_id = comment.pk
    socket, _ = await sockets.connect(post.pk)
    monkeypatch.setattr(broadcast, "_group_send", lambda event: None)  # the broadcast is lost
    await sync_to_async(comment_services.comment_delete)(comment=comment, actor=reader)
    deleted = await socket.receive_json_from(timeout=2)
    assert (deleted["type"], deleted["id"]) == ("comment.deleted", comment_id)
    assert await socket.receive_nothing(timeout=0.3), "caught up once"

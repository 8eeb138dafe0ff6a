"""Unpublishing or deleting a post, by any path that saves, reaches its open sockets at once."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from blog.comments import services as comment_services
from blog.models import Comment, Post, User
from blog.posts import services as post_services
from realtime.consumers import CLOSE_NOT_FOUND, CommentConsumer
from tests.factories import PASSWORD, make_comment
from tests.realtime.conftest import logged_in_client

pytestmark = pytest.mark.django_db(transaction=True)

# The push is immediate; the bound only leaves room for a loaded machine.
PUSH_TIMEOUT = 5  # seconds


async def close_code(socket, within: float = PUSH_TIMEOUT) -> int:
    """Reads past any frames until the server closes the socket; returns the close code."""
    async with asyncio.timeout(within):
        while True:
            output = await socket.communicator.receive_output(timeout=within)
            if output["type"] == "websocket.close":
                return output["code"]


async def unpublish_in_the_admin(post: Post) -> None:
    chief = await sync_to_async(User.objects.create_superuser)("chief", password=PASSWORD)
    admin_browser = await sync_to_async(logged_in_client)(chief)
    form = {"title": post.title, "body": post.body, "author": post.author_id, "status": Post.Status.DRAFT}
    response = await sync_to_async(admin_browser.post)(f"/admin/blog/post/{post.pk}/change/", form)
    assert response.status_code == 302
    assert not (await Post.objects.aget(pk=post.pk)).is_published


async def test_unpublishing_in_the_admin_closes_anonymous_sockets_and_keeps_the_authors(sockets, post, author):
    anonymous, _ = await sockets.connect(post.pk)
    authors, _ = await sockets.connect(post.pk, user=author)
    await unpublish_in_the_admin(post)
    assert await close_code(anonymous) == CLOSE_NOT_FOUND
    assert await authors.receive_json_from(timeout=PUSH_TIMEOUT) == {"type": "post.updated", "published": False}
    # Still open, and writes see the draft: comments are closed.
    await authors.send_json_to({"type": "comment.create", "body": "On a draft", "client_id": "draft"})
    error = await authors.receive_json_from()
    assert (error["code"], error["message"]) == ("forbidden", comment_services.MESSAGE_COMMENTS_CLOSED)


async def test_unpublishing_keeps_an_editors_socket(sockets, post, editor):
    editors, _ = await sockets.connect(post.pk, user=editor)
    await unpublish_in_the_admin(post)
    assert await editors.receive_json_from(timeout=PUSH_TIMEOUT) == {"type": "post.updated", "published": False}


async def test_a_closed_reader_gets_none_of_the_posts_later_frames(sockets, post, reader, author):
    comment = await sync_to_async(make_comment)(post, author, body="Soon gone")
    readers, _ = await sockets.connect(post.pk, user=reader)
    authors, _ = await sockets.connect(post.pk, user=author)
    await unpublish_in_the_admin(post)
    assert await close_code(readers) == CLOSE_NOT_FOUND
    await authors.receive_json_from(timeout=PUSH_TIMEOUT)  # post.updated
    await sync_to_async(comment_services.comment_delete)(comment=comment, actor=author)
    assert (await authors.receive_json_from())["type"] == "comment.deleted"
    # The hub hands a frame to every socket of the post in one pass: the reader's would be here by now.
    assert readers.communicator.output_queue.empty()


async def test_a_socket_holding_a_stale_post_cannot_comment_once_it_is_unpublished(sockets, post, reader):
    """A bulk update sends no signal, so the socket still believes the post is published."""
    socket, hello = await sockets.connect(post.pk, user=reader)
    assert hello["can_comment"] is True
    await Post.objects.filter(pk=post.pk).aupdate(status=Post.Status.DRAFT)
    await socket.send_json_to({"type": "comment.create", "body": "Too late", "client_id": "stale"})
    error = await socket.receive_json_from()
    assert (error["code"], error["message"], error["client_id"]) == (
        "forbidden",
        comment_services.MESSAGE_COMMENTS_CLOSED,
        "stale",
    )
    assert not await Comment.objects.aexists()


async def test_a_comment_cannot_be_edited_once_its_post_is_unpublished(sockets, post, reader):
    comment = await sync_to_async(make_comment)(post, reader, body="Before")
    socket, _ = await sockets.connect(post.pk, user=reader)
    await Post.objects.filter(pk=post.pk).aupdate(status=Post.Status.DRAFT)
    await socket.send_json_to({"type": "comment.edit", "id": comment.pk, "body": "After"})
    error = await socket.receive_json_from()
    assert (error["code"], error["message"]) == ("forbidden", comment_services.MESSAGE_COMMENTS_CLOSED)
    assert (await Comment.objects.aget(pk=comment.pk)).body == "Before"


async def test_deleting_the_post_in_the_shell_closes_its_sockets(sockets, post, author):
    anonymous, _ = await sockets.connect(post.pk)
    authors, _ = await sockets.connect(post.pk, user=author)
    await (await Post.objects.aget(pk=post.pk)).adelete()
    assert await close_code(anonymous) == CLOSE_NOT_FOUND
    assert await close_code(authors) == CLOSE_NOT_FOUND


async def test_publishing_a_draft_opens_comments_on_its_authors_socket(sockets, draft, author, editor):
    socket, hello = await sockets.connect(draft.pk, user=author)
    assert hello["can_comment"] is False
    await sync_to_async(post_services.post_publish)(post=draft, actor=editor)
    assert await socket.receive_json_from(timeout=PUSH_TIMEOUT) == {"type": "post.updated", "published": True}
    await socket.send_json_to({"type": "comment.create", "body": "Now it is open"})
    assert {(await socket.receive_json_from())["type"] for _ in range(2)} == {"comment.ack", "comment.created"}


async def test_an_editor_who_lost_the_right_stops_seeing_a_draft_when_it_changes(sockets, draft, editor):
    """The socket reloads its user before deciding: permissions cached at connect are not trusted."""
    socket, _ = await sockets.connect(draft.pk, user=editor)
    await sync_to_async(editor.groups.clear)()
    draft.title = "Renamed"
    await draft.asave()
    assert await close_code(socket) == CLOSE_NOT_FOUND


async def test_saving_a_published_post_keeps_its_readers_without_a_database_check(sockets, post, author, monkeypatch):
    """Every reader of a popular post hears each save: one that leaves it published must cost them nothing."""
    checks = []

    async def visible_post(consumer):
        checks.append(consumer)
        return consumer.post

    anonymous, _ = await sockets.connect(post.pk)
    authors, _ = await sockets.connect(post.pk, user=author)
    monkeypatch.setattr(CommentConsumer, "visible_post", visible_post)
    post.title = "A published post, retitled"
    await sync_to_async(post.save)()
    comment = await sync_to_async(make_comment)(post, author, body="Still here")
    await sync_to_async(comment_services.comment_delete)(comment=comment, actor=author)
    for socket in (anonymous, authors):
        # The deletion comes after the save's push: nothing came before it, and the socket is open.
        assert (await socket.receive_json_from())["type"] == "comment.deleted"
    assert checks == []

"""An Editor's edit of a published post reaches its open readers as post.revised, and a page that
(re)connects after it learns of it from the hello frame."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from blog.models import PostRevision
from tests.realtime.conftest import logged_in_client

pytestmark = pytest.mark.django_db(transaction=True)


async def edit_as(user, post, *, body: str) -> None:
    client = await sync_to_async(logged_in_client)(user)
    response = await sync_to_async(client.post)(f"/blog/posts/{post.pk}/edit/", {"title": post.title, "body": body})
    assert response.status_code == 302


async def test_open_readers_hear_that_the_post_was_updated_with_a_link_to_the_change(sockets, post, editor):
    anonymous, _ = await sockets.connect(post.pk)
    await edit_as(editor, post, body="Corrected.")
    revision = await PostRevision.objects.aget(post=post)
    await post.arefresh_from_db()
    frame = await anonymous.receive_json_from(timeout=2)
    assert frame == {
        "type": "post.revised",
        "revised": post.revised.isoformat(),
        "changes_url": f"/blog/posts/{post.pk}/changes/{revision.pk}/",
    }


async def test_a_socket_opened_after_the_edit_is_told_when_it_was(sockets, post, editor):
    _, hello = await sockets.connect(post.pk)
    assert "revised" not in hello
    await edit_as(editor, post, body="Corrected.")
    await post.arefresh_from_db()
    _, hello = await sockets.connect(post.pk)
    assert hello["revised"] == post.revised.isoformat()


async def test_an_edit_that_changes_nothing_tells_no_one(sockets, post, editor):
    reader_socket, _ = await sockets.connect(post.pk)
    await edit_as(editor, post, body=post.body)
    assert await reader_socket.receive_nothing(timeout=0.3)

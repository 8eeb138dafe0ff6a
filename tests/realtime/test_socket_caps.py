"""Caps on open sockets: per logged-in user, and per address for anonymous readers when set."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from asgi_blog.asgi import application
from blog.comments import services as comment_services
from tests.realtime.conftest import ALLOWED_ORIGIN, Socket, session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


async def closed_after_accept(socket: Socket) -> int:
    assert await socket.connect() == (True, None)
    output = await socket.communicator.receive_output()
    assert output["type"] == "websocket.close"
    return output["code"]


async def test_the_sockets_of_one_user_are_capped(sockets, post, reader, settings):
    cap = settings.BLOG_SOCKETS_PER_USER
    assert cap == 20
    session_key = await sync_to_async(session_cookie_for)(reader)
    opened = [(await sockets.connect(post.pk, session_key=session_key))[0] for _ in range(cap)]

    one_too_many = await sockets.handshake(post.pk, session_key=session_key)
    assert await closed_after_accept(one_too_many) == 4429

    # The others keep working.
    await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="to every open socket")
    for socket in opened:
        assert (await socket.receive_json_from())["comment"]["body"] == "to every open socket"

    await opened.pop().disconnect()
    await sockets.connect(post.pk, session_key=session_key)


async def test_other_users_are_not_counted_against_a_users_cap(sockets, post, reader, author, settings):
    settings.BLOG_SOCKETS_PER_USER = 1
    await sockets.connect(post.pk, user=reader)
    await sockets.connect(post.pk, user=author)
    await sockets.connect(post.pk)


async def anonymous_socket(sockets, post_id: int, address: str) -> Socket:
    communicator = WebsocketCommunicator(
        application, f"/ws/posts/{post_id}/comments/", headers=[(b"host", b"localhost"), (b"origin", ALLOWED_ORIGIN)]
    )
    communicator.scope["client"] = (address, 40000)
    socket = Socket(communicator)
    sockets.open.append(socket)
    return socket


async def test_anonymous_sockets_per_address_are_capped_when_set(sockets, post, settings):
    settings.BLOG_ANONYMOUS_SOCKETS_PER_ADDRESS = 2
    for _ in range(2):
        assert await (await anonymous_socket(sockets, post.pk, "192.0.2.7")).connect() == (True, None)
    assert await closed_after_accept(await anonymous_socket(sockets, post.pk, "192.0.2.7")) == 4429
    assert await (await anonymous_socket(sockets, post.pk, "192.0.2.8")).connect() == (True, None)


async def test_anonymous_sockets_per_address_are_not_capped_by_default(sockets, post, settings):
    """Many real readers share one address behind NAT."""
    assert settings.BLOG_ANONYMOUS_SOCKETS_PER_ADDRESS == 0
    for _ in range(25):
        socket = await anonymous_socket(sockets, post.pk, "192.0.2.7")
        assert await socket.connect() == (True, None)
        assert (await socket.receive_json_from())["type"] == "hello"


async def test_an_open_socket_keeps_its_slot_past_the_first_lease(sockets, post, reader, settings):
    """The slot is taken for two ping intervals (here rounded up to 1 s) and renewed at every ping."""
    settings.BLOG_SOCKETS_PER_USER = 1
    settings.BLOG_SOCKET_PING_SECONDS = 0.1
    socket, _ = await sockets.connect(post.pk, user=reader)
    loop = asyncio.get_running_loop()
    until = loop.time() + 2.5  # well past the first lease, with every ping answered
    while (left := until - loop.time()) > 0:
        if not await socket.receive_nothing(timeout=left):
            ping = await socket.receive_json_from()
            await socket.send_json_to({"type": "pong", "token": ping["token"]})

    assert await closed_after_accept(await sockets.handshake(post.pk, user=reader)) == 4429

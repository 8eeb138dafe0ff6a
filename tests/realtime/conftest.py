from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from asgi_blog.asgi import application

ALLOWED_ORIGIN = b"http://localhost"


def session_cookie_for(user) -> str:
    return logged_in_client(user).cookies[settings.SESSION_COOKIE_NAME].value


def logged_in_client(user) -> Client:
    """A browser of its own: a logged-in HTTP client with its own session."""
    client = Client()
    client.force_login(user)
    return client


class Sockets:
    """Opens comment sockets against the real ASGI application and closes them after the test."""

    def __init__(self) -> None:
        self.open: list[WebsocketCommunicator] = []

    async def connect(
        self, post_id: int, *, user=None, session_key=None, origin: bytes | None = ALLOWED_ORIGIN, query: str = ""
    ):
        communicator = await self.handshake(post_id, user=user, session_key=session_key, origin=origin, query=query)
        connected, code = await communicator.connect()
        assert connected, f"handshake refused ({code})"
        hello = await communicator.receive_json_from()
        assert hello["type"] == "hello"
        return communicator, hello

    async def handshake(
        self, post_id: int, *, user=None, session_key=None, origin: bytes | None = ALLOWED_ORIGIN, query: str = ""
    ):
        headers = [(b"host", b"localhost")]
        if origin is not None:
            headers.append((b"origin", origin))
        if user is not None:
            session_key = await sync_to_async(session_cookie_for)(user)
        if session_key is not None:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
        path = f"/ws/posts/{post_id}/comments/" + (f"?{query}" if query else "")
        communicator = WebsocketCommunicator(application, path, headers=headers)
        self.open.append(communicator)
        return communicator

    async def close_all(self) -> None:
        for communicator in self.open:
            await communicator.disconnect()


@pytest.fixture
async def sockets():
    opened = Sockets()
    yield opened
    await opened.close_all()

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from asgi_blog.asgi import application
from realtime.hub import stop_hub
from tests.realtime.thread_hops import Hops

ALLOWED_ORIGIN = b"http://localhost"


def session_cookie_for(user) -> str:
    return logged_in_client(user).cookies[settings.SESSION_COOKIE_NAME].value


def logged_in_client(user) -> Client:
    """A browser of its own: a logged-in HTTP client with its own session."""
    client = Client()
    client.force_login(user)
    return client


class Socket:
    """A WebsocketCommunicator that sets presence frames aside (they come on their own clock).

    Tests about presence read them from `presence`.
    """

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.presence: list[dict] = []
        self.pending: list[dict] = []

    async def connect(self):
        return await self.communicator.connect()

    async def disconnect(self) -> None:
        # A generous bound: on a loaded machine a consumer may take a while to finish its work.
        await self.communicator.disconnect(timeout=10)

    async def send_to(self, **frame) -> None:
        await self.communicator.send_to(**frame)

    async def send_json_to(self, data) -> None:
        await self.communicator.send_json_to(data)

    async def receive_json_from(self, timeout: float = 5) -> dict:
        if self.pending:
            return self.pending.pop(0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.communicator.receive_json_from(timeout=max(0.01, deadline - loop.time()))
            if frame["type"] != "presence":
                return frame
            self.presence.append(frame)

    async def receive_nothing(self, timeout: float = 0.1) -> bool:
        if self.pending:
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            if await self.communicator.receive_nothing(timeout=remaining):
                return True
            frame = await self.communicator.receive_json_from()
            if frame["type"] != "presence":
                self.pending.append(frame)
                return False
            self.presence.append(frame)
        return True


class Sockets:
    """Opens comment sockets against the real ASGI application and closes them after the test."""

    def __init__(self) -> None:
        self.open: list[Socket] = []

    async def connect(
        self, post_id: int, *, user=None, session_key=None, origin: bytes | None = ALLOWED_ORIGIN, query: str = ""
    ):
        socket = await self.handshake(post_id, user=user, session_key=session_key, origin=origin, query=query)
        connected, code = await socket.connect()
        assert connected, f"handshake refused ({code})"
        hello = await socket.receive_json_from()
        assert hello["type"] == "hello"
        return socket, hello

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
        socket = Socket(WebsocketCommunicator(application, path, headers=headers))
        self.open.append(socket)
        return socket

    def to(self, path: str, *, session_key: str | None) -> Socket:
        """A socket to another path (the bell's, the moderation queue's), closed after the test like the rest."""
        headers = [(b"host", b"localhost"), (b"origin", ALLOWED_ORIGIN)]
        if session_key is not None:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
        socket = Socket(WebsocketCommunicator(application, path, headers=headers))
        self.open.append(socket)
        return socket

    async def close_all(self) -> None:
        """Close every socket even when one of them fails, then report the first failure.

        Stopping at the first failure would leave the other consumers (and their database
        work) running into the next test, turning one real failure into many unrelated errors.
        """
        failures = []
        for socket in self.open:
            try:
                await socket.disconnect()
            except BaseException as error:  # every socket must be closed first
                failures.append(error)
        if failures:
            raise failures[0]


@pytest.fixture
async def sockets(transactional_db):
    """Sockets, and the hub they share; both stopped before the database is emptied."""
    opened = Sockets()
    yield opened
    try:
        await opened.close_all()
    finally:
        await stop_hub()


@pytest.fixture
def hops(monkeypatch) -> Hops:
    """Hops to worker threads made from here on, by name (tests/realtime/thread_hops.py)."""
    return Hops(monkeypatch)


async def session_of(user) -> tuple[str, Client]:
    """A browser session of its own for `user`: its key, and the browser (to log out with, say)."""
    browser = await sync_to_async(logged_in_client)(user)
    return browser.cookies[settings.SESSION_COOKIE_NAME].value, browser

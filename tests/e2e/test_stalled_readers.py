"""Against real daphne: a client that sends but never reads is closed, and daphne's memory stays bounded.

daphne buffers what a client has not read in memory, without limit, and
counts any frame the client sends as a sign of life; only the app's heartbeat
(realtime/heartbeat.py) can tell that such a client does not read.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket

import aiohttp

from tests.e2e.conftest import create_account, csrf_token, first_published_post_id, logged_in_session

UNREAD_BOUND = 64 * 1024
STALLED_READERS = 20
COMMENTS = 150
BODY = "\N{GRINNING FACE}" * 1750  # about 7 KiB of UTF-8
# Without the bound each stalled reader would leave about 150 x 7 KiB = 1 MiB in daphne (20 MiB
# in all); with it, at most 64 KiB each, freed once the server closes it.
RSS_GROWTH_LIMIT = 8 * 1024 * 1024
# Small segments for the stalled clients: on loopback (64 KiB segments) the kernel's send
# buffer would take megabytes per socket before daphne's own memory held anything.
SEGMENT_BYTES = 536


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def masked_text_frame(text: str) -> bytes:
    """A client's text frame (clients must mask); short payloads only."""
    payload = text.encode()
    mask = os.urandom(4)
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def stalled_reader(server, path: str) -> socket.socket:
    """A raw WebSocket client with a tiny receive window that will never read after the handshake."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    # Before connecting: they set the window and the segment size the server sends with.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, SEGMENT_BYTES)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {server.origin}\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    response = b""
    while not response.endswith(b"\r\n\r\n"):  # a byte at a time: not one byte of a frame is read
        response += await loop.sock_recv(sock, 1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


async def keep_sending_until_closed(sock: socket.socket, within: float) -> float:
    """Send a small frame every second, as a client that only talks would; how long until the server hung up."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while loop.time() - started < within:
        try:
            await loop.sock_sendall(sock, masked_text_frame('{"type":"pong","token":"a guess"}'))
        except OSError:  # reset or broken pipe: the server dropped the connection
            return loop.time() - started
        await asyncio.sleep(1)
    raise AssertionError(f"still open after {within} s")


async def test_a_client_that_sends_but_never_reads_is_closed_and_daphne_stays_small(start_daphne, server_env):
    server = start_daphne(
        BLOG_SOCKET_MAX_UNREAD_BYTES=str(UNREAD_BOUND),
        BLOG_SOCKET_PING_BYTES=str(16 * 1024),
        BLOG_COMMENT_RATE_LIMIT="0",
    )
    post_id = await first_published_post_id(server)
    url = f"{server.base_url}/blog/posts/{post_id}/comments/"
    writer = await logged_in_session(server, create_account(server_env, "stalled-readers-writer"))
    stalled: list[socket.socket] = []
    try:
        # Warm up what every request allocates once, so that only the stalled readers show.
        for _ in range(20):
            await post_comment(writer, url)
        before = rss_bytes(server.process.pid)

        for _ in range(STALLED_READERS):
            stalled.append(await stalled_reader(server, f"/ws/posts/{post_id}/comments/"))
        watching = [asyncio.create_task(keep_sending_until_closed(sock, within=20)) for sock in stalled]
        for _ in range(COMMENTS):
            await post_comment(writer, url)
        peak = rss_bytes(server.process.pid)
        await asyncio.gather(*watching)
    finally:
        await writer.close()
        for sock in stalled:
            sock.close()

    assert peak - before < RSS_GROWTH_LIMIT, f"daphne grew by {(peak - before) // 1024} KiB"
    log = server.log_path.read_text()
    assert log.count("websocket closed reason=too-slow") == STALLED_READERS


async def post_comment(session: aiohttp.ClientSession, url: str) -> None:
    form = {"body": BODY, "csrfmiddlewaretoken": csrf_token(session)}
    async with session.post(url, data=form, headers={"Accept": "application/json"}) as response:
        assert response.status == 201, await response.text()

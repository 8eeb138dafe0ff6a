"""A burst of handshakes larger than the in-flight limit and its line against real daphne (realtime/admission.py).

Every reader gets a live socket or 1013 with the seconds to wait; readers that
give up mid-handshake leave nothing behind for daphne to kill.
"""

from __future__ import annotations

import asyncio

import aiohttp

from tests.e2e.conftest import first_published_post_id, receive

IN_FLIGHT = 20
# At the rate a process assumes before it has measured itself (2,000 a second), room for 10 in line.
LINE_SECONDS = 0.005
READERS = 300
QUITTERS = 100
# daphne kills an application this long after its client left (default 10 s), and logs it.
CLOSE_TIMEOUT_SECONDS = 2
# daphne's checker runs once a second: past this, an application still running would have been killed.
KILL_LOGGED_WITHIN_SECONDS = CLOSE_TIMEOUT_SECONDS + 3


async def try_once(session: aiohttp.ClientSession, url: str, origin: str) -> tuple[str, object]:
    """One handshake, no retry: ("live", the socket) or ("closed", (code, reason))."""
    ws = await session.ws_connect(url, origin=origin)
    message = await ws.receive(timeout=30)
    if message.type == aiohttp.WSMsgType.TEXT:
        return "live", ws
    await ws.close()
    return "closed", (message.data, message.extra)


async def quit_mid_handshake(port: int, path: str, origin: str) -> None:
    """Send the upgrade request, then hang up before any answer: a client whose page was closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n".encode()
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def test_a_burst_over_the_limit_gets_live_sockets_or_1013_and_leaves_nothing_to_kill(start_daphne):
    server = start_daphne(
        extra_args=["--application-close-timeout", str(CLOSE_TIMEOUT_SECONDS)],
        BLOG_HANDSHAKES_IN_FLIGHT=str(IN_FLIGHT),
        BLOG_HANDSHAKE_LINE_SECONDS=str(LINE_SECONDS),
    )
    path = f"/ws/posts/{await first_published_post_id(server)}/comments/"
    url = server.ws_url(path)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        outcomes = await asyncio.gather(
            *(try_once(session, url, server.origin) for _ in range(READERS)),
            *(quit_mid_handshake(server.port, path, server.origin) for _ in range(QUITTERS)),
        )
        outcomes = outcomes[:READERS]
        live = [ws for kind, ws in outcomes if kind == "live"]
        closed = [detail for kind, detail in outcomes if kind == "closed"]
        try:
            assert len(live) + len(closed) == READERS
            assert live, "the first handshakes are admitted"
            assert closed, f"{READERS} at once is over a limit of {IN_FLIGHT} and its line"
            for code, reason in closed:
                assert code == 1013
                assert 0 < float(reason) <= 60
            # The limit frees as handshakes finish: a reader coming back now is admitted.
            again = await session.ws_connect(url, origin=server.origin)
            assert (await receive(again))["type"] == "hello"
            await again.close()
            await asyncio.sleep(KILL_LOGGED_WITHIN_SECONDS)  # the absence of a kill takes this long to show
            log = server.log_path.read_text()
        finally:
            for ws in live:
                await ws.close()
    assert "took too long to shut down" not in log
    assert "Traceback" not in log
    # The burst is over within a few seconds: one log line for all its refusals.
    assert log.count("reason=too-many-handshakes") == 1


async def test_a_burst_over_the_limit_that_fits_in_line_is_all_let_in(start_daphne):
    """Waiting in line costs a client nothing; a refusal would cost it a whole new handshake."""
    server = start_daphne(BLOG_HANDSHAKES_IN_FLIGHT=str(IN_FLIGHT))
    url = server.ws_url(f"/ws/posts/{await first_published_post_id(server)}/comments/")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        outcomes = await asyncio.gather(*(try_once(session, url, server.origin) for _ in range(READERS)))
        try:
            assert [kind for kind, _ in outcomes] == ["live"] * READERS
        finally:
            for kind, ws in outcomes:
                if kind == "live":
                    await ws.close()

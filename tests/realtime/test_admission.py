"""Admission control for handshakes (realtime/admission.py): a limit on those in flight, a line behind
it, 1013 with the seconds to wait beyond the line, and no work for handshakes no one waits for any more."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings

from realtime import admission, consumers
from realtime.admission import (
    CLOSE_TRY_AGAIN_LATER,
    HANDSHAKE_SCOPE_KEY,
    MAX_WAIT_SECONDS,
    RATE_MEMORY_SECONDS,
    RATE_SAMPLE,
    RATE_UNMEASURED_PER_SECOND,
    WAIT_JITTER,
    HandshakeAdmission,
    HandshakeRate,
)
from realtime.auth import SessionAuthMiddlewareStack
from realtime.routing import websocket_urlpatterns
from tests.realtime.conftest import session_cookie_for
from tests.realtime.thread_hops import Hops, tables_queried
from tests.test_settings import python

STUCK_SECONDS = 5
# So short a line that no handshake fits in it: every one over the limit is refused.
NO_ROOM_IN_LINE = 1e-6


class HeldApplication:
    """An application that holds every handshake in flight until released, counting the handshakes it saw."""

    def __init__(self) -> None:
        self.handshakes = 0
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def holding(self, count: int) -> None:
        while self.handshakes < count:
            self.arrived.clear()
            await self.arrived.wait()

    async def __call__(self, scope, receive, send) -> None:
        self.handshakes += 1
        self.arrived.set()
        await receive()
        await self.release.wait()
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass


def socket_to(application, *, cookie: str | None = None) -> WebsocketCommunicator:
    headers = [(b"host", b"localhost")]
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/posts/1/comments/", headers=headers)


async def closed_with(communicator: WebsocketCommunicator) -> tuple[int, str]:
    connected, _ = await communicator.connect()
    assert connected, "refusals are accepted first, so that a browser sees the code"
    closed = await communicator.receive_output()
    assert closed["type"] == "websocket.close"
    return closed["code"], closed["reason"]


def room_in_line(gate: HandshakeAdmission, places: int) -> HandshakeAdmission:
    """Make `gate` measure itself at the rate that leaves room for `places` handshakes in its line, not one more."""
    gate.rate.measured = (places + 0.5) / settings.BLOG_HANDSHAKE_LINE_SECONDS
    gate.rate.measured_at = admission.clock()
    return gate


@override_settings(BLOG_HANDSHAKES_IN_FLIGHT=2)
async def test_handshakes_over_the_limit_wait_in_line_and_are_let_in_first_come_first_served():
    held = HeldApplication()
    gate = HandshakeAdmission(held)
    first, second, third, fourth = (socket_to(gate) for _ in range(4))
    for communicator in (first, second, third, fourth):
        await communicator.send_input({"type": "websocket.connect"})
    await held.holding(2)
    await asyncio.sleep(0.05)
    # Nobody refused: the two over the limit wait, and the application has not seen them yet.
    assert held.handshakes == 2 and len(gate.line) == 2 and gate.in_flight == 2
    held.release.set()
    for communicator in (first, second, third, fourth):
        assert (await communicator.receive_output())["type"] == "websocket.accept"
    assert held.handshakes == 4 and not gate.line
    for communicator in (first, second, third, fourth):
        await communicator.disconnect()
    assert gate.in_flight == 0


@override_settings(BLOG_HANDSHAKES_IN_FLIGHT=2)
async def test_a_handshake_beyond_the_line_is_told_with_1013_when_to_come_back_and_never_reaches_the_app():
    held = HeldApplication()
    gate = room_in_line(HandshakeAdmission(held), places=1)
    first, second, waiting = socket_to(gate), socket_to(gate), socket_to(gate)
    for communicator in (first, second, waiting):
        await communicator.send_input({"type": "websocket.connect"})
    await held.holding(2)  # both in flight
    code, reason = await closed_with(socket_to(gate))
    assert code == CLOSE_TRY_AGAIN_LATER
    assert 0 < float(reason) <= MAX_WAIT_SECONDS
    assert held.handshakes == 2
    # Accepted: no longer in flight, so the one in line is let in.
    held.release.set()
    for communicator in (first, second, waiting):
        assert (await communicator.receive_output())["type"] == "websocket.accept"
    assert held.handshakes == 3
    for communicator in (first, second, waiting):
        await communicator.disconnect()
    assert gate.in_flight == 0


@override_settings(BLOG_HANDSHAKES_IN_FLIGHT=1)
async def test_a_handshake_whose_turn_comes_after_its_deadline_is_closed_unseen_and_passes_its_place_on(
    monkeypatch,
):
    held = HeldApplication()
    gate = HandshakeAdmission(held)
    now = [1000.0]
    monkeypatch.setattr(admission, "clock", lambda: now[0])
    admitted, late, next_in_line = socket_to(gate), socket_to(gate), socket_to(gate)
    await admitted.send_input({"type": "websocket.connect"})
    await held.holding(1)
    await late.send_input({"type": "websocket.connect"})
    await asyncio.sleep(0.05)
    now[0] += settings.BLOG_HANDSHAKE_DEADLINE_SECONDS + 1  # `late` waited past its deadline
    await next_in_line.send_input({"type": "websocket.connect"})
    await asyncio.sleep(0.05)
    assert len(gate.line) == 2
    held.release.set()
    assert (await admitted.receive_output())["type"] == "websocket.accept"
    # Closed before accept: daphne answers 403, as it has or soon will on its own.
    assert (await late.receive_output())["type"] == "websocket.close"
    assert (await next_in_line.receive_output())["type"] == "websocket.accept"
    assert held.handshakes == 2
    for communicator in (admitted, next_in_line):
        await communicator.disconnect()
    assert gate.in_flight == 0 and not gate.line


@override_settings(BLOG_HANDSHAKES_IN_FLIGHT=1)
async def test_a_handshake_cancelled_in_line_takes_no_place():
    """daphne cancels an application whose client left long ago; one waiting in line must not keep a place."""
    held = HeldApplication()
    gate = HandshakeAdmission(held)
    admitted, cancelled, after = socket_to(gate), socket_to(gate), socket_to(gate)
    for communicator in (admitted, cancelled, after):
        await communicator.send_input({"type": "websocket.connect"})
    await held.holding(1)
    await asyncio.sleep(0.05)
    cancelled.future.cancel()
    held.release.set()
    assert (await admitted.receive_output())["type"] == "websocket.accept"
    assert (await after.receive_output())["type"] == "websocket.accept"
    assert held.handshakes == 2
    for communicator in (admitted, after):
        await communicator.disconnect()
    assert gate.in_flight == 0


@override_settings(BLOG_HANDSHAKES_IN_FLIGHT=1)
async def test_a_place_handed_to_a_handshake_cancelled_meanwhile_passes_to_the_next():
    gate = HandshakeAdmission(HeldApplication())
    gate.in_flight = 1
    first, second = asyncio.ensure_future(gate.wait_in_line()), asyncio.ensure_future(gate.wait_in_line())
    await asyncio.sleep(0)
    gate.place_freed()  # the first one's turn...
    first.cancel()  # ...and its client is gone before it runs
    async with asyncio.timeout(STUCK_SECONDS):
        await second
    assert gate.in_flight == 1 and not gate.line


@override_settings(BLOG_HANDSHAKES_IN_FLIGHT=1)
async def test_a_place_freed_before_a_cancelled_handshake_has_left_the_line_goes_to_the_next():
    gate = HandshakeAdmission(HeldApplication())
    gate.in_flight = 1
    first, second = asyncio.ensure_future(gate.wait_in_line()), asyncio.ensure_future(gate.wait_in_line())
    await asyncio.sleep(0)
    first.cancel()  # its clean-up runs at its next step...
    gate.place_freed()  # ...after this
    async with asyncio.timeout(STUCK_SECONDS):
        await second
    with pytest.raises(asyncio.CancelledError):
        await first
    assert gate.in_flight == 1 and not gate.line


@override_settings(BLOG_HANDSHAKES_IN_FLIGHT=1, BLOG_HANDSHAKE_LINE_SECONDS=NO_ROOM_IN_LINE)
async def test_refusals_in_a_burst_are_told_later_and_later_times():
    held = HeldApplication()
    gate = HandshakeAdmission(held)
    admitted = socket_to(gate)
    await admitted.send_input({"type": "websocket.connect"})
    await held.holding(1)
    waits = [float((await closed_with(socket_to(gate)))[1]) for _ in range(20)]
    # The k-th refusal waits about k / rate: later places in the virtual queue, whatever the jitter.
    assert waits[-1] > waits[0] * 5
    held.release.set()
    await admitted.disconnect()


def test_the_rate_is_measured_while_the_line_waits_and_serves_the_refused():
    rate = HandshakeRate()
    now = 1000.0
    for answered in range(4000):  # 4,000 answered with others waiting in line, over 2 seconds: 2,000 a second
        rate.record_answer(now - 2 + answered / 2000, line_waiting=True)
    assert rate.per_second(now) == pytest.approx(2000, rel=0.01)
    waits = [rate.wait_for_next_refused(now, in_flight=100) for _ in range(3)]
    # Behind the 100 in flight: the first refused is 101st, then 102nd, then 103rd.
    for place, wait in enumerate(waits, start=101):
        assert place / 2000 * 0.99 <= wait <= place / 2000 * (1 + WAIT_JITTER) * 1.01
    # While the refused wait, no one is in line: the process is not slower for that.
    assert rate.per_second(now + 10) == pytest.approx(2000, rel=0.01)
    assert rate.per_second(now + 10 + RATE_MEMORY_SECONDS + 1) == RATE_UNMEASURED_PER_SECOND


def test_handshakes_answered_with_no_one_in_line_say_nothing_about_the_rate():
    """A quiet process answers as fast as clients come: that is not what it can do."""
    rate = HandshakeRate()
    for answered in range(200):
        rate.record_answer(1000 + answered / 100, line_waiting=False)  # 100 a second, unhurried
    assert rate.per_second(1002.0) == RATE_UNMEASURED_PER_SECOND
    for answered in range(RATE_SAMPLE):
        rate.record_answer(1002 + answered / 300, line_waiting=True)  # a crowd: 300 a second
    assert rate.per_second(1002 + RATE_SAMPLE / 300) == pytest.approx(300, rel=0.01)


def test_the_wait_has_a_cap():
    rate = HandshakeRate()
    # Nothing measured yet (an idle process): the assumed rate, not a division by zero or an endless wait.
    assert rate.wait_for_next_refused(0.0, in_flight=0) <= (1 / RATE_UNMEASURED_PER_SECOND) * (1 + WAIT_JITTER)
    waits = [
        rate.wait_for_next_refused(0.0, in_flight=0)
        for _ in range(int(2 * MAX_WAIT_SECONDS * RATE_UNMEASURED_PER_SECOND))
    ]
    assert max(waits) == MAX_WAIT_SECONDS


@override_settings(BLOG_HANDSHAKES_IN_FLIGHT=1, BLOG_HANDSHAKE_LINE_SECONDS=NO_ROOM_IN_LINE)
async def test_a_storm_of_refusals_logs_one_line_not_one_per_refusal(caplog):
    held = HeldApplication()
    gate = HandshakeAdmission(held)
    admitted = socket_to(gate)
    await admitted.send_input({"type": "websocket.connect"})
    await held.holding(1)
    with caplog.at_level(logging.INFO, logger="realtime.admission"):
        for _ in range(50):
            await closed_with(socket_to(gate))
    lines = [record for record in caplog.records if record.name == "realtime.admission"]
    assert len(lines) == 1
    assert "reason=too-many-handshakes" in lines[0].getMessage()
    held.release.set()
    await admitted.disconnect()


class AgedHandshake:
    """Makes every handshake look older than the deadline, as one that waited behind a storm."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        scope[HANDSHAKE_SCOPE_KEY].arrived -= settings.BLOG_HANDSHAKE_DEADLINE_SECONDS + 1
        return await self.inner(scope, receive, send)


def aged_stack():
    return HandshakeAdmission(AgedHandshake(SessionAuthMiddlewareStack(URLRouter(websocket_urlpatterns))))


@pytest.mark.django_db(transaction=True)
async def test_a_late_handshake_with_a_session_reads_nothing_and_is_closed(post, reader):
    cookie = await sync_to_async(session_cookie_for)(reader)
    communicator = socket_to(aged_stack(), cookie=cookie)
    communicator.scope["path"] = f"/ws/posts/{post.pk}/comments/"
    async with tables_queried() as tables:
        connected, code = await communicator.connect()
    assert not connected  # closed before accept: daphne answers 403, as it has or will
    assert tables == []


@pytest.mark.django_db(transaction=True)
async def test_a_late_anonymous_handshake_reads_no_post_and_is_closed(post):
    communicator = socket_to(aged_stack())
    communicator.scope["path"] = f"/ws/posts/{post.pk}/comments/"
    async with tables_queried() as tables:
        connected, _ = await communicator.connect()
    assert not connected
    assert tables == []


@pytest.mark.django_db(transaction=True)
async def test_a_client_that_leaves_mid_handshake_gets_no_more_work_and_frees_its_place(post, monkeypatch):
    """Its consumer, waiting for the database thread, ends at once instead of when daphne kills it."""
    hops = Hops(monkeypatch)
    post_reads = []
    read_post = consumers.post_and_rights
    monkeypatch.setattr(consumers, "post_and_rights", lambda *args: post_reads.append(args) or read_post(*args))
    gate = HandshakeAdmission(SessionAuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
    communicator = socket_to(gate)
    communicator.scope["path"] = f"/ws/posts/{post.pk}/comments/"
    # Keep the database thread busy, as a storm does: the handshake's read queues behind.
    busy = threading.Event()
    blocker = asyncio.ensure_future(sync_to_async(busy.wait)())
    try:
        await communicator.send_input({"type": "websocket.connect"})
        async with asyncio.timeout(STUCK_SECONDS):
            await hops.made(2)  # the blocker, then the handshake's read
        assert gate.in_flight == 1
        await communicator.send_input({"type": "websocket.disconnect", "code": 1001})
        # Done while the thread is still busy: nothing waits for it.
        async with asyncio.timeout(STUCK_SECONDS):
            await asyncio.shield(communicator.future)
        assert gate.in_flight == 0
    finally:
        busy.set()
        await blocker
    await sync_to_async(lambda: None)()  # anything still queued on the thread has run by now
    assert post_reads == []


@override_settings(BLOG_HANDSHAKES_IN_FLIGHT=1)
async def test_a_handshake_refused_by_the_app_is_no_longer_in_flight():
    async def refusing(scope, receive, send):
        await receive()
        await send({"type": "websocket.close"})

    gate = HandshakeAdmission(refusing)
    for _ in range(3):
        connected, _ = await socket_to(gate).connect()
        assert not connected
    assert gate.in_flight == 0


class CountingCollector:
    def __init__(self) -> None:
        self.opened = 0

    def socket_opened(self) -> None:
        self.opened += 1


async def test_each_accepted_socket_is_counted_for_the_quiet_collector(monkeypatch):
    counting = CountingCollector()
    monkeypatch.setattr(admission, "quiet_collector", counting)
    held = HeldApplication()
    held.release.set()
    accepted = socket_to(HandshakeAdmission(held))
    assert (await accepted.connect())[0]
    await accepted.disconnect()

    async def refusing(scope, receive, send):
        await receive()
        await send({"type": "websocket.close"})

    assert not (await socket_to(HandshakeAdmission(refusing)).connect())[0]
    assert counting.opened == 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BLOG_HANDSHAKES_IN_FLIGHT", "0"),
        ("BLOG_HANDSHAKES_IN_FLIGHT", "many"),
        ("BLOG_HANDSHAKE_DEADLINE_SECONDS", "0"),
        ("BLOG_HANDSHAKE_DEADLINE_SECONDS", "soon"),
        ("BLOG_HANDSHAKE_LINE_SECONDS", "-1"),
    ],
)
def test_a_bad_admission_setting_stops_the_server_with_its_name(variable, value):
    result = python("-c", "import django; django.setup()", DJANGO_DEBUG="1", **{variable: value})
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {variable} must be" in result.stderr

"""The page's script and a server too busy to take its handshake (close 1013, the reason the
seconds to wait), in real Chromium, with the first socket answered by Playwright's routing."""

from __future__ import annotations

import time

from playwright.async_api import Browser, Page, WebSocketRoute, expect

from tests.e2e.browser import LIVE_STATUS, PageProblems, chromium
from tests.e2e.conftest import first_published_post_id

CLOSE_TRY_AGAIN_LATER = 1013
FIRST_RETRY_SECONDS = 0.5  # FIRST_RETRY_MS in static/blog/live/socket.js


async def busy_then_through(
    browser: Browser, problems: PageProblems, url: str, reason: str
) -> tuple[Page, list[float]]:
    """A reader whose first socket is closed with 1013 and `reason`; later ones reach the server.

    Returns the page and the time of each socket the page opened."""
    opened: list[float] = []

    async def route(ws: WebSocketRoute) -> None:
        opened.append(time.monotonic())
        if len(opened) == 1:
            await ws.close(code=CLOSE_TRY_AGAIN_LATER, reason=reason)
        else:
            ws.connect_to_server()

    page = await (await browser.new_context()).new_page()
    problems.watch(page, "reader")
    await page.route_web_socket("**/ws/**", route)
    await page.goto(url)
    return page, opened


async def test_a_busy_server_is_tried_again_no_sooner_than_it_asked(daphne_server):
    server = daphne_server
    post_id = await first_published_post_id(server)
    problems = PageProblems()
    async with chromium() as browser:
        url = f"{server.base_url}/blog/posts/{post_id}/"
        page, opened = await busy_then_through(browser, problems, url, "1.5")
        await expect(page.locator(LIVE_STATUS)).to_have_text("Reconnecting…")
        # The browser saying it is online again does not cut the server's wait short.
        await page.evaluate("window.dispatchEvent(new Event('online'))")
        await expect(page.locator(LIVE_STATUS)).to_have_text("Live", timeout=10_000)
    assert len(opened) == 2
    assert opened[1] - opened[0] >= 1.5
    assert problems.messages == []


async def test_a_busy_server_that_names_no_wait_gets_the_usual_backoff(daphne_server):
    server = daphne_server
    post_id = await first_published_post_id(server)
    problems = PageProblems()
    async with chromium() as browser:
        url = f"{server.base_url}/blog/posts/{post_id}/"
        page, opened = await busy_then_through(browser, problems, url, "nonsense")
        await expect(page.locator(LIVE_STATUS)).to_have_text("Reconnecting…")
        await expect(page.locator(LIVE_STATUS)).to_have_text("Live", timeout=10_000)
    assert len(opened) == 2
    # The first retry's full delay (plus at most 20%), not at once and not the 1.5 s of a number.
    assert FIRST_RETRY_SECONDS <= opened[1] - opened[0] < 1.5
    assert problems.messages == []

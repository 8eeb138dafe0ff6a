"""Headless Debian Chromium driven by Playwright (which cannot download its own browser here)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.conftest import DEMO_PASSWORD, DaphneServer

HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.js$")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not path:
        raise RuntimeError("Chromium is not installed: apt-get install chromium (make test does this as root)")
    return path


@dataclass
class PageProblems:
    """What a page must never do: log errors, violate the CSP, open a dialog, or load a script
    by its plain name (a cached copy of that could outlive a deploy; hashed names cannot)."""

    messages: list[str] = field(default_factory=list)

    def watch(self, page: Page, name: str) -> None:
        def console(message) -> None:
            if message.type == "error":
                # Where it came from: a failed load names the resource there.
                self.messages.append(f"{name} console: {message.text} {message.location.get('url', '')}")

        page.on("console", console)
        page.on("pageerror", lambda error: self.messages.append(f"{name} error: {error}"))
        page.on("dialog", lambda dialog: self.messages.append(f"{name} dialog: {dialog.message}"))
        page.on("request", lambda request: self.check_script_name(name, request.url))

    def apart_from_the_server_being_down(self) -> list[str]:
        """The problems, less the connections refused while a test had stopped the server."""
        refused = ("WebSocket connection", "net::ERR_CONNECTION_REFUSED")
        return [message for message in self.messages if not any(reason in message for reason in refused)]

    def check_script_name(self, name: str, url: str) -> None:
        path = urlsplit(url).path
        if path.startswith("/static/") and path.endswith(".js") and not HASHED_NAME.search(path):
            self.messages.append(f"{name} loaded a script by its plain name: {path}")


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A browser with a fresh, empty profile (Playwright makes one per launch)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


async def log_in(page: Page, server: DaphneServer, username: str, next_path: str) -> None:
    await page.goto(f"{server.base_url}/accounts/login/?next={next_path}")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", DEMO_PASSWORD)
    await page.click("form button[type=submit]")
    await page.wait_for_url(f"**{next_path}")


async def writer_and_reader(
    browser: Browser, server: DaphneServer, username: str, post_path: str, problems: PageProblems
) -> tuple[Page, Page]:
    """A logged-in writer and an anonymous reader (browsers of their own) on one post, both live."""
    writer = await (await browser.new_context()).new_page()
    reader = await (await browser.new_context()).new_page()
    problems.watch(writer, "writer")
    problems.watch(reader, "reader")
    await log_in(writer, server, username, post_path)
    await reader.goto(server.base_url + post_path)
    for page in (writer, reader):
        await expect(page.locator("#live-status")).to_have_text("Live")
    return writer, reader


LIVE_STATUS = "#live-status"


async def live_reader(browser: Browser, problems: PageProblems, url: str, *, before_loading=None) -> Page:
    """A reader in a browser context of its own, watched for problems, once its socket says Live.

    `before_loading(page)` runs before the page is opened, to watch what the page does from its start.
    """
    page = await (await browser.new_context()).new_page()
    problems.watch(page, "reader")
    if before_loading is not None:
        before_loading(page)
    await page.goto(url)
    await expect(page.locator(LIVE_STATUS)).to_have_text("Live")
    return page

"""Notifications in real Chromium: the bell counts live on every page of the user (the post page's
comment socket and /ws/notifications/ elsewhere), marking read in one tab clears the others, and
the preferences page turns a kind off."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.e2e.browser import PageProblems, chromium, log_in
from tests.e2e.conftest import create_account, first_published_post_id
from tests.e2e.test_browser_journeys import STATUS, screenshot

BELL_COUNT = "#notification-bell .unread-count"


async def post_as(page, text: str) -> None:
    await page.fill("#comment-form textarea", text)
    await page.click("#comment-form button[type=submit]")
    await expect(page.locator("li.comment", has_text=text)).to_have_count(1)


async def test_the_bell_counts_live_in_every_tab_and_reading_clears_them_all(daphne_server, server_env):
    server = daphne_server
    post_path = f"/blog/posts/{await first_published_post_id(server)}/"
    owner = create_account(server_env, "bell-owner")
    writer_name = create_account(server_env, "bell-writer")
    problems = PageProblems()
    async with chromium() as browser:
        owner_context = await browser.new_context()
        on_list = await owner_context.new_page()  # no comment socket: the bell's own
        problems.watch(on_list, "owner on the post list")
        await log_in(on_list, server, owner, "/blog/")
        on_post = await owner_context.new_page()  # the comment socket carries it
        problems.watch(on_post, "owner on the post")
        await on_post.goto(server.base_url + post_path)
        await expect(on_post.locator(STATUS)).to_have_text("Live")
        for page in (on_list, on_post):
            await expect(page.locator(BELL_COUNT)).to_have_text("0 unread")

        writer = await (await browser.new_context()).new_page()
        problems.watch(writer, "writer")
        await log_in(writer, server, writer_name, post_path)
        await post_as(writer, f"What do you say, @{owner}?")

        for page in (on_list, on_post):
            await expect(page.locator(BELL_COUNT)).to_have_text("1 unread")
            await expect(page.locator(BELL_COUNT)).to_have_attribute("data-state", "unread")
        await expect(on_list).to_have_title(re.compile(r"^\(1\) "))
        # Announced to screen readers, not only drawn.
        await expect(on_list.get_by_role("status").filter(has_text="New notification")).to_contain_text(
            f"{writer_name} mentioned you"
        )

        listing = await owner_context.new_page()
        problems.watch(listing, "owner on the notifications")
        await listing.goto(f"{server.base_url}/notifications/")
        item = listing.locator("li.notification-unread")
        await expect(item).to_contain_text(f"{writer_name} mentioned you on")
        await screenshot(listing, "notifications")
        await listing.click("text=Mark all read")
        await expect(listing.locator(".messages")).to_contain_text("All your notifications are marked read.")
        for page in (on_list, on_post, listing):
            await expect(page.locator(BELL_COUNT)).to_have_text("0 unread")

        # The link leads to the comment.
        await listing.locator("li.notification a").first.click()
        await expect(listing.locator("li.comment", has_text="What do you say")).to_be_visible()
    assert problems.messages == []


async def test_the_preferences_page_turns_a_kind_off(daphne_server, server_env):
    server = daphne_server
    post_path = f"/blog/posts/{await first_published_post_id(server)}/"
    owner = create_account(server_env, "quiet-owner")
    writer_name = create_account(server_env, "quiet-writer")
    problems = PageProblems()
    async with chromium() as browser:
        page = await (await browser.new_context()).new_page()
        problems.watch(page, "owner")
        await log_in(page, server, owner, "/notifications/preferences/")
        await expect(page.get_by_role("radio", name="In the page and by email").first).to_be_visible()
        mentions = page.locator("fieldset", has_text="Mentions of you")
        await mentions.get_by_role("radio", name="Off").check()
        await page.click("text=Save preferences")
        await expect(page.locator(".messages")).to_contain_text("Your notification preferences are saved.")
        await expect(mentions.get_by_role("radio", name="Off")).to_be_checked()

        await page.goto(server.base_url + post_path)
        await expect(page.locator(STATUS)).to_have_text("Live")
        writer = await (await browser.new_context()).new_page()
        problems.watch(writer, "writer")
        await log_in(writer, server, writer_name, post_path)
        await post_as(writer, f"Are you there, @{owner}?")
        # The comment reached the owner's page; no notification came with it, nor is one listed.
        await expect(page.locator("li.comment", has_text="Are you there")).to_have_count(1)
        await page.goto(f"{server.base_url}/notifications/")
        await expect(page.locator(BELL_COUNT)).to_have_text("0 unread")
        await expect(page.locator("li.notification")).to_have_count(0)
    assert problems.messages == []

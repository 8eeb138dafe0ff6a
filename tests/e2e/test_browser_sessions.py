"""The sessions page in real Chromium: a phone left signed in is signed out from the laptop, and its open
post page falls back to "Log in to comment" live, without a reload."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.browser import PageProblems, chromium, log_in
from tests.e2e.conftest import create_account, first_published_post_id
from tests.e2e.test_browser_journeys import STATUS, screenshot

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


async def test_signing_out_another_session_ends_its_open_page_live(daphne_server, server_env):
    server = daphne_server
    post_path = f"/blog/posts/{await first_published_post_id(server)}/"
    username = create_account(server_env, "two-devices")
    problems = PageProblems()
    async with chromium() as browser:
        phone = await (await browser.new_context(user_agent=PHONE)).new_page()
        problems.watch(phone, "phone")
        await log_in(phone, server, username, post_path)
        await expect(phone.locator(STATUS)).to_have_text("Live")
        await expect(phone.locator("#comment-form")).to_be_visible()

        laptop = await (await browser.new_context()).new_page()
        problems.watch(laptop, "laptop")
        await log_in(laptop, server, username, "/accounts/sessions/")
        rows = laptop.locator("tr.session")
        await expect(rows).to_have_count(2)
        this_device = laptop.locator("tr.session-current")
        await expect(this_device).to_contain_text("This device")
        phone_row = laptop.locator("tr.session", has_text="Mobile Safari on iOS")
        await expect(phone_row).not_to_contain_text("This device")
        await screenshot(laptop, "sessions")

        await phone_row.get_by_role("button", name="Sign out").click()
        await expect(laptop.locator(".messages")).to_contain_text("That session is signed out.")
        await expect(rows).to_have_count(1)

        # Live: the phone's socket was told, and its form gave way to the login link.
        await expect(phone.locator(".login-to-comment")).to_be_visible()
        await expect(phone.locator("#comment-form")).to_have_count(0)
        await phone.reload()
        await expect(phone.locator(".login-to-comment")).to_be_visible()
        # The laptop is still signed in.
        await laptop.goto(f"{server.base_url}/accounts/sessions/")
        await expect(laptop.locator("tr.session-current")).to_have_count(1)
    assert problems.messages == []

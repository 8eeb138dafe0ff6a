"""What people do on the post page, in real Chromium, with screenshots kept for the docs and CI."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from tests.e2e.browser import PageProblems, chromium, log_in
from tests.e2e.conftest import create_account, first_published_post_id
from tests.processes import DEMO_PASSWORD, PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
STATUS = "#live-status"


async def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def test_writer_signs_up_comments_and_a_reader_sees_it_live_within_two_seconds(daphne_server):
    server = daphne_server
    post_id = await first_published_post_id(server)
    post_path = f"/blog/posts/{post_id}/"
    problems = PageProblems()
    async with chromium() as browser:
        writer = await (await browser.new_context(viewport={"width": 1000, "height": 900})).new_page()
        reader = await (await browser.new_context(viewport={"width": 1000, "height": 900})).new_page()
        problems.watch(writer, "writer")
        problems.watch(reader, "reader")

        await writer.goto(f"{server.base_url}/accounts/signup/")
        await writer.fill("input[name=username]", "new-browser-user")
        await writer.fill("input[name=password1]", "a-long-new-password")
        await writer.fill("input[name=password2]", "a-long-new-password")
        await writer.click("form button[type=submit]")
        await expect(writer.get_by_text("Signed in as")).to_be_visible()

        await writer.goto(server.base_url + post_path)
        await reader.goto(server.base_url + post_path)
        for page in (writer, reader):
            await expect(page.locator(STATUS)).to_have_text("Live")

        await writer.fill("#comment-form textarea", "Hello from a brand new account")
        await writer.click("#comment-form button[type=submit]")
        await expect(reader.locator("li.comment", has_text="Hello from a brand new account")).to_be_visible(
            timeout=2000
        )
        await expect(writer.locator("li.pending")).to_have_count(0)
        await screenshot(writer, "post-page-writer")
        await screenshot(reader, "post-page-reader")
    assert problems.messages == []


async def test_commenting_works_with_javascript_turned_off(daphne_server, server_env):
    server = daphne_server
    post_id = await first_published_post_id(server)
    post_path = f"/blog/posts/{post_id}/"
    username = create_account(server_env, "no-script-writer")
    async with chromium() as browser:
        page = await (await browser.new_context(java_script_enabled=False)).new_page()
        await log_in(page, server, username, post_path)
        await expect(page.locator(STATUS)).to_be_hidden()  # no script, no live connection to report
        await page.fill("#comment-form textarea", "Posted without JavaScript")
        await page.click("#comment-form button[type=submit]")
        await page.wait_for_url(f"**{post_path}#comment-*")
        await expect(page.locator("li.comment", has_text="Posted without JavaScript")).to_have_count(1)


async def test_anonymous_reader_is_offered_the_login_and_then_comments(daphne_server, server_env):
    server = daphne_server
    post_id = await first_published_post_id(server)
    username = create_account(server_env, "login-link-user")
    problems = PageProblems()
    async with chromium() as browser:
        page = await (await browser.new_context()).new_page()
        problems.watch(page, "reader")
        await page.goto(f"{server.base_url}/blog/posts/{post_id}/")
        await expect(page.locator("#comment-form")).to_have_count(0)
        await page.get_by_role("link", name="Log in to comment").click()
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", DEMO_PASSWORD)
        await page.click("form button[type=submit]")
        await page.wait_for_url(f"**/blog/posts/{post_id}/")
        await expect(page.locator(STATUS)).to_have_text("Live")
        await page.fill("#comment-form textarea", "Logged in from the link")
        await page.click("#comment-form button[type=submit]")
        await expect(page.locator("li.comment:not(.pending)", has_text="Logged in from the link")).to_have_count(1)
    assert problems.messages == []


async def test_logging_out_in_one_tab_turns_the_other_tabs_form_into_the_login_link(daphne_server, server_env):
    server = daphne_server
    post_id = await first_published_post_id(server)
    post_path = f"/blog/posts/{post_id}/"
    username = create_account(server_env, "two-tabs-user")
    problems = PageProblems()
    async with chromium() as browser:
        context = await browser.new_context()  # one browser: both tabs share the session cookie
        first_tab = await context.new_page()
        problems.watch(first_tab, "first tab")
        await log_in(first_tab, server, username, post_path)
        second_tab = await context.new_page()
        problems.watch(second_tab, "second tab")
        await second_tab.goto(server.base_url + post_path)
        await expect(second_tab.locator(STATUS)).to_have_text("Live")
        await expect(second_tab.locator("#comment-form")).to_have_count(1)

        await first_tab.get_by_role("button", name="Log out").click()

        await expect(second_tab.locator("#comment-form")).to_have_count(0, timeout=2000)
        await expect(second_tab.get_by_role("link", name="Log in to comment")).to_be_visible()
        await screenshot(second_tab, "post-page-after-logout-elsewhere")
    assert problems.messages == []

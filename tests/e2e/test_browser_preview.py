"""The comment form's Preview, with the script and without it."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.browser import PageProblems, chromium, log_in
from tests.e2e.conftest import create_account, first_published_post_id

TYPED = "**{word}** <img src=x onerror=alert(1)>"


async def test_preview_shows_the_rendered_comment_in_place_and_posting_clears_it(daphne_server, server_env):
    server = daphne_server
    post_path = f"/blog/posts/{await first_published_post_id(server)}/"
    username = create_account(server_env, "previewing-writer")
    problems = PageProblems()
    async with chromium() as browser:
        page = await (await browser.new_context()).new_page()
        problems.watch(page, "writer")
        await log_in(page, server, username, post_path)
        await page.fill("#comment-form textarea", TYPED.format(word="loud"))
        await page.get_by_role("button", name="Preview").click()

        preview = page.locator("#comment-preview")
        await expect(preview.locator("strong")).to_have_text("loud")
        await expect(preview.locator(".comment-body")).to_have_text("loud <img src=x onerror=alert(1)>")
        assert await preview.locator("img").count() == 0
        assert page.url.endswith(post_path), "the page stayed where it was"
        await expect(page.locator("li.comment", has_text="loud")).to_have_count(0)

        await page.get_by_role("button", name="Post comment").click()
        await expect(page.locator("li.comment:not(.pending) .comment-body strong", has_text="loud")).to_have_count(1)
        await expect(preview).to_be_hidden()
    assert problems.messages == []


async def test_preview_works_with_javascript_turned_off(daphne_server, server_env):
    server = daphne_server
    post_path = f"/blog/posts/{await first_published_post_id(server)}/"
    username = create_account(server_env, "no-script-previewer")
    async with chromium() as browser:
        page = await (await browser.new_context(java_script_enabled=False)).new_page()
        await log_in(page, server, username, post_path)
        await page.fill("#comment-form textarea", TYPED.format(word="plain"))
        await page.get_by_role("button", name="Preview").click()

        await page.wait_for_url("**/comments/preview/")
        await expect(page.locator("#comment-preview strong")).to_have_text("plain")
        await expect(page.locator("#comment-form textarea")).to_have_value(TYPED.format(word="plain"))
        await page.get_by_role("button", name="Post comment").click()
        await page.wait_for_url(f"**{post_path}#comment-*")
        await expect(page.locator("li.comment .comment-body strong", has_text="plain")).to_have_count(1)

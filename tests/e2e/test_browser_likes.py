"""Likes and sorting in real Chromium: one reader's like reaches another's open page live; the
button is a keyboard-usable toggle; without JavaScript the like form and the sort links still work."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.browser import LIVE_STATUS, PageProblems, chromium, live_reader, log_in
from tests.e2e.conftest import create_account, first_published_post_id, logged_in_session
from tests.e2e.test_browser_live import post_json


async def test_a_like_reaches_another_readers_page_live_and_the_sort_links_reorder(start_daphne, server_env):
    server = start_daphne()
    post_id = await first_published_post_id(server)
    post_path = f"/blog/posts/{post_id}/"
    writer = await logged_in_session(server, create_account(server_env, "liked-writer"))
    liker_name = create_account(server_env, "liker")
    plain_name = create_account(server_env, "plain-liker")
    try:
        first = (await post_json(writer, server, f"/blog/posts/{post_id}/comments/", "the first thought"))["comment"]
        second = (await post_json(writer, server, f"/blog/posts/{post_id}/comments/", "the second"))["comment"]
    finally:
        await writer.close()
    problems = PageProblems()
    async with chromium() as browser:
        watcher = await live_reader(browser, problems, server.base_url + post_path)
        liker = await (await browser.new_context()).new_page()
        problems.watch(liker, "liker")
        await log_in(liker, server, liker_name, post_path)
        await expect(liker.locator(LIVE_STATUS)).to_have_text("Live")

        button = liker.locator(f"#comment-{first['id']} > .comment-actions button.like-button")
        await expect(button).to_have_attribute("aria-pressed", "false")
        await button.click()
        await expect(button).to_have_attribute("aria-pressed", "true")
        await expect(liker.locator(f"#comment-{first['id']} > .comment-likes")).to_have_text("1 like")
        # The other reader's page, open all along, without a reload.
        watched = watcher.locator(f"#comment-{first['id']} > .comment-likes")
        await expect(watched).to_have_text("1 like")
        await expect(watched).to_be_visible()

        # A toggle from the keyboard too.
        await button.focus()
        await liker.keyboard.press("Enter")
        await expect(button).to_have_attribute("aria-pressed", "false")
        await expect(watched).to_be_hidden()
        await expect(watched).to_have_attribute("data-likes", "0")

        # Without JavaScript: the plain form likes the second comment and comes back to it.
        plain = await (await browser.new_context(java_script_enabled=False)).new_page()
        problems.watch(plain, "plain")
        await log_in(plain, server, plain_name, post_path)
        await plain.locator(f"#comment-{second['id']} > .comment-actions button.like-button").click()
        await plain.wait_for_url(f"**{post_path}#comment-{second['id']}")
        plain_button = plain.locator(f"#comment-{second['id']} > .comment-actions button.like-button")
        await expect(plain_button).to_have_attribute("aria-pressed", "true")
        await expect(plain.locator(f"#comment-{second['id']} > .comment-likes")).to_have_text("1 like")
        await expect(watcher.locator(f"#comment-{second['id']} > .comment-likes")).to_have_text("1 like")

        # The sort links are plain links: most liked puts the liked comment's thread first.
        await plain.get_by_role("link", name="Most liked").click()
        await plain.wait_for_url(f"**{post_path}?sort=liked#comments")
        await expect(plain.get_by_role("link", name="Most liked")).to_have_attribute("aria-current", "page")
        tops = plain.locator("#comments > li.comment")
        await expect(tops.first).to_have_id(f"comment-{second['id']}")
        await plain.get_by_role("link", name="Newest first").click()
        await expect(tops.first).to_have_id(f"comment-{second['id']}")
        await expect(tops.nth(1)).to_have_id(f"comment-{first['id']}")
        await plain.get_by_role("link", name="Oldest first").click()
        await expect(tops.last).to_have_id(f"comment-{second['id']}")

        # The live page sorted newest first puts a new comment at the top.
        await watcher.goto(f"{server.base_url}{post_path}?sort=newest")
        await expect(watcher.locator(LIVE_STATUS)).to_have_text("Live")
        writer = await logged_in_session(server, "liked-writer")
        try:
            third = (await post_json(writer, server, f"/blog/posts/{post_id}/comments/", "the newest"))["comment"]
        finally:
            await writer.close()
        await expect(watcher.locator("#comments > li.comment").first).to_have_id(f"comment-{third['id']}")
    assert problems.messages == []

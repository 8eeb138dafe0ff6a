"""Hostile text shows as text: server-rendered, live-inserted in a real browser, and raw in JSON."""

from __future__ import annotations

import aiohttp
from playwright.async_api import expect

from tests.e2e.browser import PageProblems, chromium, writer_and_reader
from tests.e2e.conftest import create_account, first_published_post_id

HOSTILE = "<img src=x onerror=alert(1)>"


async def test_hostile_comment_is_text_live_and_after_reload(daphne_server, server_env):
    server = daphne_server
    post_id = await first_published_post_id(server)
    post_path = f"/blog/posts/{post_id}/"
    username = create_account(server_env, "xss-writer")
    problems = PageProblems()
    async with chromium() as browser:
        writer, reader = await writer_and_reader(browser, server, username, post_path, problems)

        await writer.fill("#comment-form textarea", HOSTILE)
        await writer.click("#comment-form button[type=submit]")

        live = reader.locator("li.comment .comment-body", has_text=HOSTILE)
        await live.wait_for(timeout=2000)
        assert await live.inner_text() == HOSTILE
        assert await reader.locator("#comments img").count() == 0

        await reader.reload()
        rendered = reader.locator("li.comment .comment-body", has_text=HOSTILE)
        assert await rendered.inner_text() == HOSTILE
        assert await reader.locator("#comments img").count() == 0
        await writer.wait_for_timeout(300)  # let any injected handler fire, if one got in

    assert problems.messages == []
    comments_url = f"{server.base_url}/blog/posts/{post_id}/comments/"
    async with aiohttp.ClientSession() as client, client.get(comments_url) as response:
        bodies = [comment["body"] for comment in (await response.json())["comments"]]
    assert HOSTILE in bodies


async def test_markdown_is_rendered_live_and_after_reload_and_edited_from_its_source(daphne_server, server_env):
    server = daphne_server
    post_id = await first_published_post_id(server)
    username = create_account(server_env, "markdown-writer")
    typed = "**loud** and <b>typed tags</b>"
    shown = "loud and <b>typed tags</b>"
    problems = PageProblems()
    async with chromium() as browser:
        writer, reader = await writer_and_reader(browser, server, username, f"/blog/posts/{post_id}/", problems)

        await writer.fill("#comment-form textarea", typed)
        await writer.click("#comment-form button[type=submit]")

        for page in (reader, writer):
            body = page.locator("li.comment:not(.pending) .comment-body", has_text="typed tags")
            await expect(body.locator("strong")).to_have_text("loud")
            assert await body.inner_text() == shown
            assert await body.locator("b").count() == 0

        mine = writer.locator("li.comment:not(.pending)", has_text="typed tags")
        await mine.locator("a.comment-edit").click()
        await expect(mine.locator("textarea")).to_have_value(typed)
        await mine.locator("textarea").fill("now _quiet_")
        await mine.get_by_role("button", name="Save").click()
        await expect(reader.locator("li.comment .comment-body em")).to_have_text("quiet")

        await reader.reload()
        await expect(reader.locator("li.comment .comment-body em")).to_have_text("quiet")
    assert problems.messages == []

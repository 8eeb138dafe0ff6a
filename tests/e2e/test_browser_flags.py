"""Flags and held comments on the post page in real Chromium: a flag that hides a comment takes it off
every open page at once, a moderator's restore puts it back in its place, and a held comment shows to
its author alone, marked."""

from __future__ import annotations

import aiohttp
from playwright.async_api import Page, expect

from tests.e2e.browser import LIVE_STATUS, PageProblems, chromium, log_in
from tests.e2e.conftest import create_account, csrf_token, first_published_post_id, logged_in_session
from tests.e2e.test_browser_live import post_json, submit_comment
from tests.e2e.test_browser_moderation import make_moderator

HEADING = "#comments-heading"


async def signed_in(browser, server, problems: PageProblems, username: str, path: str) -> Page:
    page = await (await browser.new_context()).new_page()
    problems.watch(page, username)
    await log_in(page, server, username, path)
    await expect(page.locator(LIVE_STATUS)).to_have_text("Live")
    return page


async def comment_count(page: Page) -> int:
    heading = await page.locator(HEADING).text_content()
    return int(heading.split()[0].replace(",", ""))


async def test_flags_hide_a_comment_live_and_a_restore_puts_it_back_in_its_place(start_daphne, server_env):
    server = start_daphne(BLOG_FLAG_THRESHOLD="1")
    post_id = await first_published_post_id(server)
    post_path = f"/blog/posts/{post_id}/"
    writer_name = create_account(server_env, "flagged-writer")
    onlooker_name = create_account(server_env, "flag-onlooker")
    flagger_name = create_account(server_env, "flagger")
    moderator = await logged_in_session(server, make_moderator(server_env, "flag-moderator"))
    writer = await logged_in_session(server, writer_name)
    problems = PageProblems()
    try:
        async with chromium() as browser:
            onlooker = await signed_in(browser, server, problems, onlooker_name, post_path)
            flagger = await signed_in(browser, server, problems, flagger_name, post_path)
            await submit_comment(flagger, "my own words")
            mine = flagger.locator("li.comment:not(.pending)", has_text="my own words")
            await expect(mine.locator(".comment-actions a.comment-edit")).to_have_count(1)
            assert await mine.locator("a.comment-flag").count() == 0, "no one flags their own comment"
            await expect(onlooker.locator("li.comment", has_text="my own words")).to_have_count(1)
            before = await comment_count(onlooker)
            rude = await post_json(writer, server, f"/blog/posts/{post_id}/comments/", "a rude remark")
            await post_json(writer, server, f"/blog/posts/{post_id}/comments/", "a later, kinder one")
            rude_id = rude["comment"]["id"]
            shown = onlooker.locator(f"#comment-{rude_id}")
            await expect(shown).to_contain_text("a rude remark")
            await expect(onlooker.locator("li.comment", has_text="a later, kinder one")).to_have_count(1)
            await expect(onlooker.locator(HEADING)).to_have_text(f"{before + 2} comments")

            # The Flag link of a comment that arrived live, built by the script as the server writes it.
            link = flagger.locator(f"#comment-{rude_id} > .comment-actions a.comment-flag")
            await expect(link).to_have_attribute("href", f"/blog/comments/{rude_id}/flag/")
            await link.click()
            await flagger.get_by_label("Abuse").check()
            await flagger.get_by_role("button", name="Flag this comment").click()
            await flagger.wait_for_url(f"**{post_path}")
            await expect(flagger.locator(".messages")).to_contain_text("the comment is hidden until a moderator")
            await expect(flagger.locator(f"#comment-{rude_id}")).to_have_count(0)

            # Gone from the page that was open all along, without a reload.
            await expect(shown).to_have_count(0)
            await expect(onlooker.locator(HEADING)).to_have_text(f"{before + 1} comments")

            async with moderator.post(
                f"{server.base_url}/moderation/comments/{rude_id}/approve/",
                data={"csrfmiddlewaretoken": csrf_token(moderator)},
                headers={"Accept": "application/json"},
            ) as response:
                assert response.status == 200, await response.text()

            # Back, older than the comment after it, and counted again.
            await expect(shown).to_contain_text("a rude remark")
            await expect(onlooker.locator(HEADING)).to_have_text(f"{before + 2} comments")
            texts = await onlooker.locator("#comments > li.comment .comment-body").all_text_contents()
            assert texts.index("a rude remark") < texts.index("a later, kinder one")
    finally:
        await writer.close()
        await moderator.close()
    assert problems.messages == []


async def test_a_held_comment_shows_to_its_author_only_marked_as_awaiting_approval(start_daphne, server_env):
    server = start_daphne(BLOG_COMMENT_MODERATION="all")
    post_id = await first_published_post_id(server)
    post_path = f"/blog/posts/{post_id}/"
    problems = PageProblems()
    async with chromium() as browser:
        other = await signed_in(browser, server, problems, create_account(server_env, "held-other"), post_path)
        author = await signed_in(browser, server, problems, create_account(server_env, "held-author"), post_path)
        counted = await author.locator(HEADING).text_content()

        await submit_comment(author, "waiting for a moderator")
        held = author.locator("li.comment-held", has_text="waiting for a moderator")
        await expect(held).to_contain_text("Awaiting approval")
        await expect(held.locator(".held-note")).to_have_text(
            "Awaiting approval: only you and the moderators can see it."
        )
        await expect(author.locator("li.pending")).to_have_count(0)
        await expect(author.locator("#comment-form textarea")).to_have_value("")
        assert await held.locator("a.comment-reply, .comment-actions").count() == 0
        await expect(author.locator(HEADING)).to_have_text(counted)
        held_id = (await held.get_attribute("id")).removeprefix("comment-")

        # A comment published meanwhile (a moderator's is never held) reaches both pages and leaves it be.
        moderator = await logged_in_session(server, make_moderator(server_env, "held-moderator"))
        try:
            await post_json(moderator, server, f"/blog/posts/{post_id}/comments/", "said meanwhile")
        finally:
            await moderator.close()
        for page in (author, other):
            await expect(page.locator("li.comment", has_text="said meanwhile")).to_have_count(1)
        await expect(held).to_contain_text("Awaiting approval")

        await expect(other.locator(f"#comment-{held_id}")).to_have_count(0)
        assert "waiting for a moderator" not in await other.content()

        await author.reload()
        section = author.locator("#held-comments")
        await expect(section.locator("h3")).to_have_text("Your comments awaiting approval")
        await expect(section.locator(f"#comment-{held_id}")).to_contain_text("Awaiting approval")
        await other.reload()
        await expect(other.locator("#held-comments")).to_have_count(0)
        assert "waiting for a moderator" not in await other.content()
    assert problems.messages == []


async def test_a_held_comment_sent_over_http_settles_the_same_way(start_daphne, server_env):
    server = start_daphne(BLOG_COMMENT_MODERATION="all")
    post_id = await first_published_post_id(server)
    post_path = f"/blog/posts/{post_id}/"
    username = create_account(server_env, "held-offline")
    problems = PageProblems()
    async with chromium() as browser:
        context = await browser.new_context()
        # Every WebSocket is refused: the comment goes over HTTP (fetch), whose answer says "pending".
        await context.route_web_socket("**/ws/**", lambda ws: ws.close())
        page = await context.new_page()
        problems.watch(page, "writer")
        await log_in(page, server, username, post_path)
        await expect(page.locator(LIVE_STATUS)).to_have_text("Offline — comments are sent over HTTP", timeout=15000)
        await submit_comment(page, "held while offline")
        held = page.locator("li.comment-held", has_text="held while offline")
        await expect(held).to_contain_text("Awaiting approval")
        await expect(page.locator("li.pending")).to_have_count(0)
    async with aiohttp.ClientSession() as client, client.get(f"{server.base_url}{post_path}") as response:
        assert "held while offline" not in await response.text()
    assert problems.messages == []

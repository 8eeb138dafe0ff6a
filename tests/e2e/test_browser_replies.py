"""Replies in real Chromium: live under their parent for every reader, a deleted parent keeping
its replies, Markdown shown rendered and typed HTML as text, and the reply form without the script."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.browser import PageProblems, chromium, log_in, writer_and_reader
from tests.e2e.conftest import create_account, first_published_post_id
from tests.e2e.test_browser_journeys import STATUS, screenshot


def comment(page, text):
    return page.locator("li.comment", has_text=text).last


async def test_a_reply_arrives_live_under_its_parent_and_a_deleted_parent_keeps_it(daphne_server, server_env):
    server = daphne_server
    post_path = f"/blog/posts/{await first_published_post_id(server)}/"
    asker = create_account(server_env, "asking-writer")
    answerer = create_account(server_env, "answering-writer")
    problems = PageProblems()
    async with chromium() as browser:
        writer, reader = await writer_and_reader(browser, server, asker, post_path, problems)
        other = await (await browser.new_context()).new_page()
        problems.watch(other, "answerer")
        await log_in(other, server, answerer, post_path)
        await expect(other.locator(STATUS)).to_have_text("Live")

        await writer.fill("#comment-form textarea", "Does **anyone** know? <img src=x onerror=alert(1)>")
        await writer.click("#comment-form button[type=submit]")
        question = comment(reader, "Does anyone know?")
        await expect(question.locator(".comment-body strong")).to_have_text("anyone")
        await expect(question.locator(".comment-body")).to_contain_text("<img src=x onerror=alert(1)>")
        assert await question.locator("img").count() == 0

        asked = comment(other, "Does anyone know?")
        await asked.locator("a.comment-reply").click()
        await expect(other.locator("#replying-to")).to_contain_text(f"Replying to {asker}")
        await other.fill("#comment-form textarea", "I do: `make run`")
        await screenshot(other, "post-page-replying")
        await other.click("#comment-form button[type=submit]")

        # Under its parent, for a reader who was only watching.
        answer = question.locator("ol.comment-replies > li.comment", has_text="I do:")
        await expect(answer).to_have_count(1)
        await expect(answer.locator(".comment-body code")).to_have_text("make run")
        await expect(other.locator("#replying-to")).to_be_hidden()
        await expect(other.locator("#comment-form textarea")).to_have_value("")
        await screenshot(reader, "post-page-thread")

        writer_question = comment(writer, "Does anyone know?")
        await expect(writer_question.locator("ol.comment-replies > li.comment")).to_have_count(1)
        await writer_question.locator(":scope > .comment-actions button", has_text="Delete").click()

        for page in (reader, writer, other):
            placeholder = page.locator("li.comment-deleted")
            await expect(placeholder.locator(".comment-placeholder")).to_have_text("Comment deleted")
            await expect(placeholder).not_to_contain_text("Does anyone know?")
            await expect(placeholder).not_to_contain_text(asker)
            await expect(placeholder.locator("ol.comment-replies > li.comment", has_text="I do:")).to_have_count(1)
        await reader.reload()
        await expect(
            reader.locator("li.comment-deleted ol.comment-replies li.comment", has_text="I do:")
        ).to_have_count(1)
        await expect(reader.locator("body")).not_to_contain_text("Does anyone know?")
    assert problems.messages == []


async def test_replying_works_with_javascript_turned_off(daphne_server, server_env):
    server = daphne_server
    post_path = f"/blog/posts/{await first_published_post_id(server)}/"
    username = create_account(server_env, "no-script-replier")
    async with chromium() as browser:
        page = await (await browser.new_context(java_script_enabled=False)).new_page()
        await log_in(page, server, username, post_path)
        await page.fill("#comment-form textarea", "A question without scripts")
        await page.click("#comment-form button[type=submit]")
        await page.wait_for_url(f"**{post_path}#comment-*")

        await comment(page, "A question without scripts").locator("a.comment-reply").click()
        await page.wait_for_url("**?reply_to=*")
        await expect(page.locator("#replying-to")).to_contain_text(f"Replying to {username}")
        await page.fill("#comment-form textarea", "An answer without scripts")
        await page.click("#comment-form button[type=submit]")
        await page.wait_for_url(f"**{post_path}#comment-*")
        nested = comment(page, "A question without scripts").locator("ol.comment-replies > li.comment")
        await expect(nested.locator(".comment-body")).to_have_text("An answer without scripts")


async def test_more_replies_open_in_place(daphne_server, server_env):
    server = daphne_server
    post_path = f"/blog/posts/{await first_published_post_id(server)}/"
    username = create_account(server_env, "long-thread-writer")
    problems = PageProblems()
    async with chromium() as browser:
        page = await (await browser.new_context()).new_page()
        problems.watch(page, "writer")
        await log_in(page, server, username, post_path)
        await expect(page.locator(STATUS)).to_have_text("Live")
        await page.fill("#comment-form textarea", "Start of a long thread")
        await page.click("#comment-form button[type=submit]")
        top = comment(page, "Start of a long thread")
        for n in range(5):
            await top.locator(":scope > a.comment-reply").click()
            await page.fill("#comment-form textarea", f"Reply number {n}")
            await page.click("#comment-form button[type=submit]")
            await expect(top.locator("ol.comment-replies > li.comment:not(.pending)")).to_have_count(n + 1)

        await page.reload()
        top = comment(page, "Start of a long thread")
        await expect(top.locator("ol.comment-replies > li.comment")).to_have_count(3)
        await top.locator("a.replies-more").click()
        await expect(top.locator("ol.comment-replies > li.comment")).to_have_count(5)
        await expect(top.locator("a.replies-more")).to_have_count(0)
        texts = await top.locator("ol.comment-replies > li.comment .comment-body").all_inner_texts()
        assert texts == [f"Reply number {n}" for n in range(5)]
    assert problems.messages == []

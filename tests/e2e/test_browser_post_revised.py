"""Corrections in the open, in real Chromium: an Editor fixes a published post, and a reader who has it
open is told at once, politely, with a link to a readable account of what changed."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.browser import PageProblems, chromium, live_reader, log_in
from tests.e2e.conftest import first_published_post_id
from tests.e2e.test_browser_journeys import screenshot


async def test_an_open_reader_sees_the_post_was_updated_and_what_changed(daphne_server):
    server = daphne_server
    post_path = f"/blog/posts/{await first_published_post_id(server)}/"
    problems = PageProblems()
    async with chromium() as browser:
        reader = await live_reader(browser, problems, server.base_url + post_path)
        notice = reader.locator("#post-revised-live")
        await expect(notice).to_be_hidden()

        editor = await (await browser.new_context()).new_page()
        problems.watch(editor, "editor")
        await log_in(editor, server, "editor", post_path)
        await editor.click("text=Edit this post")
        body = editor.locator("textarea[name=body]")
        await body.fill((await body.input_value()) + "\n\nCorrection: the launch is on Tuesday.")
        await editor.click("button:has-text('Save changes')")
        await expect(editor.locator(".messages")).to_contain_text("Its readers see that it was updated")

        # The reader's page says so without a reload, and its text is left as it was until they choose.
        await expect(notice).to_contain_text("This post was updated since you opened it.")
        await expect(reader.locator(".post-body")).not_to_contain_text("Correction")
        await reader.click("#post-revised-live >> text=See what changed")
        await expect(reader.locator(".diff-body ins")).to_contain_text("Correction: the launch is on Tuesday.")
        await screenshot(reader, "post-changes")
        await reader.go_back()
        await reader.reload()
        await expect(reader.locator(".post-revised")).to_contain_text("Updated")
        await expect(reader.locator(".post-body")).to_contain_text("Correction: the launch is on Tuesday.")
    assert problems.messages == []

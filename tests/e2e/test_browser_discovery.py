"""Finding posts in real Chromium: a post's tag leads to the tag's page, the header's search box finds a
post with its matched word marked, and each page names its Atom feed in its head."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.e2e.browser import PageProblems, chromium

DEMO_POST = "How the live comments work"  # seed_demo's, tagged "live comments", "channels", "django"


async def test_a_reader_follows_a_tag_and_finds_a_post_by_searching(daphne_server):
    server = daphne_server
    problems = PageProblems()
    async with chromium() as browser:
        page = await browser.new_page()
        problems.watch(page, "reader")

        await page.goto(f"{server.base_url}/blog/")
        feed = page.locator('head link[rel="alternate"][type="application/atom+xml"]')
        await expect(feed).to_have_attribute("href", "/blog/feed/")

        await page.get_by_role("link", name=DEMO_POST).click()
        await page.wait_for_url(re.compile(r"/blog/posts/\d+/$"))
        await expect(feed).to_have_attribute("href", re.compile(r"^/blog/posts/\d+/comments/feed/$"))
        tags = page.get_by_role("list", name="Tags")
        await expect(tags.get_by_role("link")).to_have_text(["channels", "django", "live comments"])

        await tags.get_by_role("link", name="channels").click()
        await page.wait_for_url(f"{server.base_url}/blog/tags/channels/")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Posts tagged channels")
        await expect(page.locator(".post-summary h2")).to_have_text([DEMO_POST])
        await expect(feed).to_have_attribute("href", "/blog/tags/channels/feed/")

        search_box = page.get_by_role("search").get_by_label("Search posts")
        await search_box.fill("consumer")
        await search_box.press("Enter")
        await page.wait_for_url(f"{server.base_url}/search/?q=consumer")
        hits = page.locator(".search-hit")
        await expect(hits.locator("h2")).to_have_text([DEMO_POST])
        await expect(hits.locator(".search-snippet mark")).to_have_text([re.compile("consumer", re.IGNORECASE)])

        response = await page.request.get(f"{server.base_url}/blog/tags/channels/feed/")
        assert response.ok and DEMO_POST in await response.text()
    assert problems.messages == []

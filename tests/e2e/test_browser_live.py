"""The live page in real Chromium: connection state, HTTP fallback, moderation, readers count."""

from __future__ import annotations

import aiohttp
from playwright.async_api import Page, expect

from tests.e2e.browser import LIVE_STATUS as STATUS
from tests.e2e.browser import PageProblems, chromium, live_reader, log_in, writer_and_reader
from tests.e2e.conftest import create_account, csrf_token, first_published_post_id, logged_in_session


async def comment_bodies(server, post_id: int) -> list[str]:
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{server.base_url}/blog/posts/{post_id}/comments/?after=0") as response,
    ):
        return [comment["body"] for comment in (await response.json())["comments"]]


async def post_json(session: aiohttp.ClientSession, server, path: str, body: str = "") -> dict:
    async with session.post(
        server.base_url + path,
        data={"body": body, "csrfmiddlewaretoken": csrf_token(session)},
        headers={"Accept": "application/json"},
    ) as response:
        assert response.status in {200, 201}, await response.text()
        return await response.json()


async def submit_comment(page: Page, body: str) -> None:
    await page.fill("#comment-form textarea", body)
    await page.click("#comment-form button[type=submit]")


async def test_status_follows_a_server_restart_and_what_happened_meanwhile_shows(start_daphne, server_env):
    first = start_daphne()
    second = start_daphne()  # same database; takes comments while the first is down
    post_id = await first_published_post_id(first)
    writer = await logged_in_session(second, create_account(server_env, "restart-browser-writer"))
    problems = PageProblems()
    try:
        async with chromium() as browser:
            reader = await live_reader(browser, problems, f"{first.base_url}/blog/posts/{post_id}/")
            doomed = await post_json(writer, second, f"/blog/posts/{post_id}/comments/", "to be deleted while down")
            await expect(reader.locator("li.comment", has_text="to be deleted while down")).to_have_count(1)

            first.stop()
            await expect(reader.locator(STATUS)).to_have_text("Reconnecting…", timeout=5000)
            await post_json(writer, second, f"/blog/posts/{post_id}/comments/", "posted while the server was down")
            await post_json(writer, second, f"/blog/comments/{doomed['comment']['id']}/delete/")
            first.start()

            await expect(reader.locator(STATUS)).to_have_text("Live", timeout=20000)
            await expect(reader.locator("li.comment", has_text="posted while the server was down")).to_have_count(1)
            await expect(reader.locator("li.comment", has_text="to be deleted while down")).to_have_count(0)
    finally:
        await writer.close()
    # A page that loses its server logs the failed reconnection attempts; nothing else.
    assert problems.apart_from_the_server_being_down() == []


async def test_a_comment_written_while_the_socket_is_down_goes_over_http_once(daphne_server, server_env):
    server = daphne_server
    post_id = await first_published_post_id(server)
    post_path = f"/blog/posts/{post_id}/"
    username = create_account(server_env, "offline-writer")
    problems = PageProblems()
    async with chromium() as browser:
        context = await browser.new_context()
        # Every WebSocket the page opens is refused at once: the network lets HTTP through only.
        await context.route_web_socket("**/ws/**", lambda ws: ws.close())
        writer = await context.new_page()
        problems.watch(writer, "writer")
        await log_in(writer, server, username, post_path)
        await expect(writer.locator(STATUS)).to_have_text("Offline — comments are sent over HTTP", timeout=15000)

        await submit_comment(writer, "sent while offline")
        await expect(writer.locator("li.comment:not(.pending)", has_text="sent while offline")).to_have_count(1)
        await expect(writer.locator("li.pending")).to_have_count(0)
    assert (await comment_bodies(server, post_id)).count("sent while offline") == 1
    assert problems.messages == []


async def test_edits_and_deletions_reach_other_readers_live(daphne_server, server_env):
    server = daphne_server
    post_id = await first_published_post_id(server)
    post_path = f"/blog/posts/{post_id}/"
    username = create_account(server_env, "moderating-writer")
    problems = PageProblems()
    async with chromium() as browser:
        writer, reader = await writer_and_reader(browser, server, username, post_path, problems)

        await submit_comment(writer, "first thoughts")
        mine = writer.locator("li.comment:not(.pending)", has_text="first thoughts")
        theirs = reader.locator("li.comment", has_text="first thoughts")
        await expect(theirs).to_have_count(1)
        assert await theirs.locator(".comment-actions").count() == 0, "no actions on someone else's comment"

        await mine.locator("a.comment-edit").click()
        await mine.locator("textarea").fill("second thoughts")
        await mine.get_by_role("button", name="Save").click()
        edited = reader.locator("li.comment", has_text="second thoughts")
        await expect(edited).to_have_count(1)
        await expect(edited.locator(".comment-edited")).to_be_visible()

        await writer.locator("li.comment", has_text="second thoughts").get_by_role("button", name="Delete").click()
        await expect(reader.locator("li.comment", has_text="second thoughts")).to_have_count(0)
        await expect(writer.locator("li.comment", has_text="second thoughts")).to_have_count(0)
    assert "second thoughts" not in await comment_bodies(server, post_id)
    assert problems.messages == []


async def test_the_page_shows_how_many_are_reading(daphne_server):
    server = daphne_server
    post_id = await first_published_post_id(server)
    async with chromium() as browser:
        first = await (await browser.new_context()).new_page()
        await first.goto(f"{server.base_url}/blog/posts/{post_id}/")
        await expect(first.locator("#live-readers")).to_have_text("1 reading")
        second_context = await browser.new_context()
        second = await second_context.new_page()
        await second.goto(f"{server.base_url}/blog/posts/{post_id}/")
        await expect(first.locator("#live-readers")).to_have_text("2 reading", timeout=5000)
        await expect(second.locator("#live-readers")).to_have_text("2 reading")
        await second_context.close()
        await expect(first.locator("#live-readers")).to_have_text("1 reading", timeout=5000)

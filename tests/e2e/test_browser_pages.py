"""A post with more comments than one page in real Chromium: the newest page first, earlier
ones through "Show earlier comments" (a link without JavaScript, in place with it), and a
heading that counts every comment of the post, not what the list holds."""

from __future__ import annotations

import asyncio
import re

import aiohttp
from playwright.async_api import Page, Route, expect

from blog.posts import versions as post_versions
from tests.e2e.browser import LIVE_STATUS, PageProblems, chromium, live_reader, writer_and_reader
from tests.e2e.conftest import create_account, csrf_token, logged_in_session

PAGE_SIZE = 50  # data-page-size: how many comments a page shows
EARLIER = "#comments-earlier"
COMMENTS = "#comments > li.comment"
OLDER_PAGE = re.compile(r"\?before=\d+#comments$")


def post_with_comments(server, author: str, count: int) -> tuple[int, list[int]]:
    """A published post with `count` comments by `author`, "comment 1" the oldest; its id and theirs."""
    script = (
        "from django.utils import timezone; from blog.models import Comment, Post, User; "
        f"author = User.objects.get(username={author!r}); "
        "post = Post.objects.create(title='Much discussed', body='x', status='published', "
        "published_at=timezone.now(), author=author); "
        "Comment.objects.bulk_create(Comment(post=post, author=author, body=f'comment {n}') "
        f"for n in range(1, {count + 1})); "
        "print(post.pk, *post.comments.order_by('id').values_list('id', flat=True))"
    )
    post_id, *comment_ids = (int(word) for word in server.manage("shell", "--no-imports", "-c", script).split())
    return post_id, comment_ids


async def shown_bodies(page: Page) -> list[str]:
    return await page.locator(f"{COMMENTS} .comment-body").all_inner_texts()


async def shown_ids(page: Page) -> list[int]:
    return [int(value) for value in await page.locator(COMMENTS).evaluate_all("lis => lis.map(li => li.id.slice(8))")]


def numbered(first: int, last: int) -> list[str]:
    return [f"comment {n}" for n in range(first, last + 1)]


async def send_json(session: aiohttp.ClientSession, server, path: str, data: dict[str, str]) -> dict:
    async with session.post(
        server.base_url + path,
        data={**data, "csrfmiddlewaretoken": csrf_token(session)},
        headers={"Accept": "application/json"},
    ) as response:
        assert response.status in {200, 201}, await response.text()
        return await response.json()


async def test_without_javascript_the_earlier_link_leads_to_ever_older_pages(daphne_server, server_env):
    server = daphne_server
    post_id, _ = post_with_comments(server, create_account(server_env, "plain-pages-author"), 120)
    async with chromium() as browser:
        page = await (await browser.new_context(java_script_enabled=False)).new_page()
        await page.goto(f"{server.base_url}/blog/posts/{post_id}/")
        assert await shown_bodies(page) == numbered(71, 120)
        await expect(page.locator("#comments-heading")).to_have_text("120 comments")

        async with page.expect_navigation(url=OLDER_PAGE):
            await page.click(EARLIER)
        assert await shown_bodies(page) == numbered(21, 70)
        await expect(page.locator("#comments-section")).to_have_attribute("data-live", "false")

        async with page.expect_navigation(url=OLDER_PAGE):
            await page.click(EARLIER)
        assert await shown_bodies(page) == numbered(1, 20)
        await expect(page.locator(EARLIER)).to_have_count(0)


async def test_an_older_page_with_javascript_stays_plain_html(daphne_server, server_env):
    """data-live="false": no socket, no status, and the earlier link an ordinary link (times read
    relatively here too: static/blog/times.js runs on every page)."""
    server = daphne_server
    post_id, ids = post_with_comments(server, create_account(server_env, "older-page-author"), 120)
    problems = PageProblems()
    async with chromium() as browser:
        page = await (await browser.new_context()).new_page()
        problems.watch(page, "reader")
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        await page.goto(f"{server.base_url}/blog/posts/{post_id}/?before={ids[70]}#comments")
        assert await shown_bodies(page) == numbered(21, 70)
        await expect(page.locator(f"{COMMENTS} time").first).to_have_text("just now")

        async with page.expect_navigation():
            await page.click(EARLIER)  # the script did not take the click over
        assert await shown_bodies(page) == numbered(1, 20)
        await expect(page.locator(LIVE_STATUS)).to_be_hidden()
        assert sockets == []
    assert problems.messages == []


async def test_earlier_comments_are_shown_in_place_and_the_heading_counts_the_whole_post(daphne_server, server_env):
    server = daphne_server
    author = create_account(server_env, "in-place-author")
    post_id, ids = post_with_comments(server, author, 120)
    writer = await logged_in_session(server, author)
    problems = PageProblems()
    try:
        async with chromium() as browser:
            reader = await live_reader(browser, problems, f"{server.base_url}/blog/posts/{post_id}/")
            assert await shown_ids(reader) == ids[-PAGE_SIZE:]
            heading = reader.locator("#comments-heading")
            await expect(heading).to_have_text("120 comments")

            # The link stays where the reader clicked it; the comments go in below it. Without
            # the browser's scroll anchoring (Safari has none), which could hide a jump.
            await reader.evaluate("document.documentElement.style.overflowAnchor = 'none'")
            link = reader.locator(EARLIER)
            await link.evaluate("link => link.scrollIntoView({block: 'center'})")
            top_before = (await link.bounding_box())["y"]
            await link.click()
            await expect(reader.locator(COMMENTS)).to_have_count(100)
            assert abs((await link.bounding_box())["y"] - top_before) <= 1
            await expect(reader.locator(f"#comment-{ids[20]}")).to_be_focused()
            await expect(link).to_have_attribute("href", f"?before={ids[20]}#comments")
            await expect(heading).to_have_text("120 comments")

            # The last page: the link goes, and the first comment shown takes its place.
            top_before = (await link.bounding_box())["y"]
            await link.click()
            await expect(reader.locator(COMMENTS)).to_have_count(120)
            await expect(link).to_have_count(0)
            first = reader.locator(f"#comment-{ids[0]}")
            await expect(first).to_be_focused()
            assert abs((await first.bounding_box())["y"] - top_before) <= 1
            assert await shown_ids(reader) == ids
            assert await shown_bodies(reader) == numbered(1, 120)
            await expect(heading).to_have_text("120 comments")

            posted = await send_json(writer, server, f"/blog/posts/{post_id}/comments/", {"body": "a live one"})
            await expect(heading).to_have_text("121 comments")
            assert (await shown_ids(reader))[-1] == posted["comment"]["id"]
            await expect(reader.locator(COMMENTS).last).to_contain_text("a live one")

            await send_json(writer, server, f"/blog/comments/{ids[0]}/delete/", {})
            await expect(heading).to_have_text("120 comments")
            await expect(reader.locator(COMMENTS)).to_have_count(120)
    finally:
        await writer.close()
    assert problems.messages == []


async def test_each_comment_posted_or_deleted_counts_once_shown_or_not(daphne_server, server_env):
    """The heading is the post's total: a comment deleted from an earlier page lowers it too, and
    the deleter's own page, told twice (the answer and the broadcast), lowers it once."""
    server = daphne_server
    author = create_account(server_env, "count-author")
    post_id, ids = post_with_comments(server, author, 999)
    post_path = f"/blog/posts/{post_id}/"
    http = await logged_in_session(server, author)
    problems = PageProblems()
    try:
        async with chromium() as browser:
            writer, reader = await writer_and_reader(browser, server, author, post_path, problems)
            for page in (writer, reader):
                await expect(page.locator("#comments-heading")).to_have_text("999 comments")

            await writer.fill("#comment-form textarea", "the thousandth")
            await writer.click("#comment-form button[type=submit]")
            for page in (writer, reader):
                await expect(page.locator("#comments-heading")).to_have_text("1,000 comments")

            await send_json(http, server, f"/blog/comments/{ids[0]}/delete/", {})
            for page in (writer, reader):
                await expect(page.locator("#comments-heading")).to_have_text("999 comments")

            await writer.locator(COMMENTS, has_text="the thousandth").get_by_role("button", name="Delete").click()
            for page in (writer, reader):
                await expect(page.locator(COMMENTS)).to_have_count(PAGE_SIZE)
            # The socket's answer and the broadcast both said so; a third frame, if any, has come.
            await send_json(http, server, post_path + "comments/", {"body": "a marker after the deletion"})
            for page in (writer, reader):
                await expect(page.locator(COMMENTS).last).to_contain_text("a marker after the deletion")
                await expect(page.locator("#comments-heading")).to_have_text("999 comments")
    finally:
        await http.close()
    assert problems.messages == []


async def test_a_failed_fetch_says_so_and_the_link_still_works_once_at_a_time(daphne_server, server_env):
    server = daphne_server
    post_id, ids = post_with_comments(server, create_account(server_env, "failing-author"), 120)
    problems = PageProblems()
    requests: list[str] = []
    release = asyncio.Event()

    async def answer(route: Route) -> None:
        requests.append(route.request.url)
        if len(requests) == 1:
            await route.fulfill(status=503, body="busy")
            return
        await release.wait()  # held, so that the reader can click again while it runs
        # With a comment the page shows already, under the same id: it must not appear twice.
        response = await route.fetch()
        data = await response.json()
        data["comments"].append({**data["comments"][0], "id": ids[-1], "body": "a second copy"})
        await route.fulfill(response=response, json=data)

    async with chromium() as browser:
        reader = await live_reader(browser, problems, f"{server.base_url}/blog/posts/{post_id}/")
        await reader.route(lambda url: "before=" in url, answer)
        link = reader.locator(EARLIER)

        await link.click()
        await expect(reader.locator(".comments-earlier-error")).to_have_text(
            "Earlier comments could not be loaded. Try again."
        )
        await expect(reader.locator(COMMENTS)).to_have_count(PAGE_SIZE)

        await link.click()
        await expect(link).to_have_attribute("aria-busy", "true")
        await expect(reader.locator(".comments-earlier-error")).to_have_count(0)
        await link.click()
        await link.click()
        release.set()
        await expect(reader.locator(COMMENTS)).to_have_count(2 * PAGE_SIZE)
        await expect(link).not_to_have_attribute("aria-busy", "true")
        assert len(requests) == 2, requests
        assert await shown_ids(reader) == ids[-2 * PAGE_SIZE :]
        await expect(reader.locator(COMMENTS, has_text="a second copy")).to_have_count(0)
        assert f"before={ids[-PAGE_SIZE]}" in requests[1]
        assert f"limit={PAGE_SIZE}" in requests[1]
    # The 503 is the one failure the browser reports.
    assert [message for message in problems.messages if "503" not in message] == []


async def test_a_resync_reloads_what_the_page_shows_not_every_comment(start_daphne, server_env):
    """After `resync` the page reloads its own comments (the newest page and on), with edits and
    deletions, and does not pull every older comment of the post into the list."""
    server = start_daphne()
    post_id, ids = post_with_comments(server, create_account(server_env, "resync-pages-author"), 120)
    problems = PageProblems()
    async with chromium() as browser:
        reader = await live_reader(browser, problems, f"{server.base_url}/blog/posts/{post_id}/")
        await expect(reader.locator(COMMENTS)).to_have_count(PAGE_SIZE)

        server.stop()
        await expect(reader.locator(LIVE_STATUS)).to_have_text("Reconnecting…", timeout=5000)
        missed = 201  # one more than the server replays: it answers resync
        server.manage(
            "shell",
            "--no-imports",
            "-c",
            "from django.utils import timezone; from blog.models import Comment; "
            f"Comment.objects.filter(pk={ids[-1]}).update(body='edited while away', edited=timezone.now()); "
            f"Comment.objects.filter(pk={ids[-2]}).delete(); first = Comment.objects.get(pk={ids[0]}); "
            f"Comment.objects.bulk_create(Comment(post_id={post_id}, author_id=first.author_id, body=f'missed {{n}}') "
            f"for n in range({missed}))",
        )
        # Writes that bypass the blog's services show once the cached post has expired: with Redis,
        # the entry the page filled outlives the restart.
        await asyncio.sleep(post_versions.ENTRY_SECONDS)
        server.start()

        await expect(reader.locator(LIVE_STATUS)).to_have_text("Live", timeout=20_000)
        await expect(reader.locator(COMMENTS)).to_have_count(PAGE_SIZE - 1 + missed, timeout=10_000)
        await expect(reader.locator(f"#comment-{ids[-1]} .comment-body")).to_have_text("edited while away")
        await expect(reader.locator(f"#comment-{ids[-2]}")).to_have_count(0)
        await expect(reader.locator("#comments-heading")).to_have_text(f"{120 - 1 + missed} comments")
        assert (await shown_ids(reader))[0] == ids[-PAGE_SIZE]

        await reader.click(EARLIER)  # the earlier link still leads on from where the page starts
        await expect(reader.locator(COMMENTS)).to_have_count(2 * PAGE_SIZE - 1 + missed)
    assert problems.apart_from_the_server_being_down() == []

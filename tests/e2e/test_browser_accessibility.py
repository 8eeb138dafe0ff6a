"""Accessibility in real Chromium, checked rather than assumed: axe-core finds no serious or critical
violation on the pages people use, in the light palette and the dark one, with live comments
arriving; new comments are announced a batch at a time in a polite live region and wait behind a
"N new comments" button while the reader is above the end of the list; keyboard focus lands where
the reader can carry on; reduced motion is honoured; times read relatively and move on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.browser import PageProblems, chromium, live_reader, log_in
from tests.e2e.conftest import DaphneServer, create_account, csrf_token, logged_in_session
from tests.e2e.test_browser_journeys import SCREENSHOTS, STATUS
from tests.e2e.test_browser_moderation import flag_a_comment, make_moderator
from tests.e2e.test_browser_pages import post_with_comments

VIEWPORT = {"width": 1000, "height": 900}
DEFAULT_VIEWPORT_HEIGHT = 720  # Playwright's, which live_reader's pages have
PARIS = "Europe/Paris"
ANNOUNCER = "#comments-announcer"
NEW_COMMENTS = "#new-comments"
HEADING = "#comments-heading"


async def post_comment(session: aiohttp.ClientSession, server: DaphneServer, post_id: int, body: str) -> int:
    async with session.post(
        f"{server.base_url}/blog/posts/{post_id}/comments/",
        data={"body": body, "csrfmiddlewaretoken": csrf_token(session)},
        headers={"Accept": "application/json"},
    ) as response:
        assert response.status == 201, await response.text()
        return (await response.json())["comment"]["id"]


async def record_announcements(page: Page) -> None:
    """Keep every text the polite region is given, in order, on the page (window.announced)."""
    await page.locator(ANNOUNCER).evaluate(
        """region => {
            window.announced = [];
            new MutationObserver(() => {
                if (region.textContent) window.announced.push(region.textContent);
            }).observe(region, {childList: true, characterData: true, subtree: true});
        }"""
    )


async def scroll_into_the_middle_of_the_comments(page: Page, comment_id: int) -> None:
    await page.locator(f"#comment-{comment_id}").evaluate("li => li.scrollIntoView({block: 'center'})")


async def focused_comment_id(page: Page) -> str | None:
    return await page.evaluate("document.activeElement.closest('li.comment')?.dataset.commentId ?? null")


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_pages_have_no_serious_or_critical_axe_violations_with_comments_arriving(
    daphne_server, server_env, scheme
):
    server = daphne_server
    moderator = make_moderator(server_env, f"axe-moderator-{scheme}")
    writer = create_account(server_env, f"axe-writer-{scheme}")
    flagger = create_account(server_env, f"axe-flagger-{scheme}")
    post_id, ids = post_with_comments(server, writer, 20)
    post_path = f"/blog/posts/{post_id}/"
    flag_a_comment(server_env, post_id, flagger)  # an entry on the moderation queue
    http = await logged_in_session(server, writer)
    problems = PageProblems()
    try:
        async with chromium() as browser:
            anonymous = await (await browser.new_context(color_scheme=scheme, viewport=VIEWPORT)).new_page()
            problems.watch(anonymous, "anonymous")
            for path in ("/blog/", "/accounts/login/", "/accounts/signup/", "/search/?q=live"):
                await anonymous.goto(server.base_url + path)
                await assert_accessible(anonymous, f"{path} ({scheme})")
            await anonymous.goto(server.base_url + post_path)
            await expect(anonymous.locator(STATUS)).to_have_text("Live")

            signed_in = await (await browser.new_context(color_scheme=scheme, viewport=VIEWPORT)).new_page()
            problems.watch(signed_in, "moderator")
            await log_in(signed_in, server, moderator, post_path)
            await expect(signed_in.locator(STATUS)).to_have_text("Live")
            # The moderator reads in the middle of the comments: what arrives waits behind the button.
            await scroll_into_the_middle_of_the_comments(signed_in, ids[5])
            for page in (anonymous, signed_in):
                await record_announcements(page)

            await post_comment(http, server, post_id, f"A first live one, @{moderator}")
            await post_comment(http, server, post_id, "A second live one")
            for page in (anonymous, signed_in):
                await expect(page.locator(ANNOUNCER)).to_have_text("2 new comments")
                assert await page.evaluate("window.announced") == ["2 new comments"]
            await expect(signed_in.locator(NEW_COMMENTS)).to_be_visible()
            await expect(anonymous.locator("li.comment", has_text="A second live one")).to_be_visible()

            await assert_accessible(anonymous, f"the post page, anonymous, comments arrived ({scheme})")
            await assert_accessible(signed_in, f"the post page, signed in, comments waiting ({scheme})")
            # What the reader sees (the window, not the whole page): the button keeps to its bottom.
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await signed_in.screenshot(path=str(SCREENSHOTS / f"post-page-{scheme}.png"))
            await signed_in.locator(NEW_COMMENTS).click()
            await assert_accessible(signed_in, f"the post page, signed in, comments shown ({scheme})")

            for path in ("/notifications/", "/moderation/"):
                await signed_in.goto(server.base_url + path)
                await expect(signed_in.locator("main time").first).to_be_attached()
                await assert_accessible(signed_in, f"{path} ({scheme})")
            # The account's own pages: sessions, two-factor set-up (its QR code), data and deletion.
            for path in ("/accounts/", "/accounts/sessions/", "/accounts/two-factor/", "/accounts/data/"):
                await signed_in.goto(server.base_url + path)
                await assert_accessible(signed_in, f"{path} ({scheme})")

            # The palette follows the reader's preference.
            background = await anonymous.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == ("rgb(13, 17, 23)" if scheme == "dark" else "rgb(255, 255, 255)")
    finally:
        await http.close()
    assert problems.messages == []


async def test_comments_arriving_together_are_announced_once_politely(daphne_server, server_env):
    server = daphne_server
    writer = create_account(server_env, "announced-writer")
    post_id, _ = post_with_comments(server, writer, 2)
    http = await logged_in_session(server, writer)
    problems = PageProblems()
    try:
        async with chromium() as browser:
            reader = await live_reader(browser, problems, f"{server.base_url}/blog/posts/{post_id}/")
            region = reader.locator(ANNOUNCER)
            await expect(region).to_have_attribute("aria-live", "polite")
            await expect(region).to_have_attribute("role", "status")
            await record_announcements(reader)

            await post_comment(http, server, post_id, "one")
            await post_comment(http, server, post_id, "two")
            await expect(region).to_have_text("2 new comments")
            # Later arrivals are a batch of their own, announced again even in the same words.
            await post_comment(http, server, post_id, "three")
            await post_comment(http, server, post_id, "four")
            await reader.wait_for_function("() => window.announced.length >= 2")
            assert await reader.evaluate("window.announced") == ["2 new comments", "2 new comments"]
    finally:
        await http.close()
    assert problems.messages == []


async def test_new_comments_wait_behind_a_button_while_the_reader_is_above_the_end(daphne_server, server_env):
    server = daphne_server
    writer = create_account(server_env, "waiting-writer")
    post_id, ids = post_with_comments(server, writer, 30)
    http = await logged_in_session(server, writer)
    problems = PageProblems()
    try:
        async with chromium() as browser:
            reader = await live_reader(browser, problems, f"{server.base_url}/blog/posts/{post_id}/")
            await scroll_into_the_middle_of_the_comments(reader, ids[12])
            on_screen = reader.locator(f"#comment-{ids[12]}")
            top_before = (await on_screen.bounding_box())["y"]

            new_ids = [await post_comment(http, server, post_id, f"new {n}") for n in range(1, 4)]
            button = reader.get_by_role("button", name="Show 3 new comments")
            await expect(button).to_be_visible()
            await expect(reader.locator(ANNOUNCER)).to_have_text("3 new comments")
            for new_id in new_ids:
                await expect(reader.locator(f"#comment-{new_id}")).to_be_hidden()
            await expect(reader.locator(HEADING)).to_have_text("33 comments")
            # Nothing the reader was reading moved, and the button is in the window.
            assert abs((await on_screen.bounding_box())["y"] - top_before) <= 1
            box = await button.bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= DEFAULT_VIEWPORT_HEIGHT

            await button.focus()
            await reader.keyboard.press("Enter")
            for new_id in new_ids:
                await expect(reader.locator(f"#comment-{new_id}")).to_be_visible()
            await expect(reader.locator(f"#comment-{new_ids[0]}")).to_be_focused()
            await expect(reader.locator(NEW_COMMENTS)).to_be_hidden()
    finally:
        await http.close()
    assert problems.messages == []


async def test_new_comments_show_at_once_at_the_end_of_the_list_and_above_the_comments(daphne_server, server_env):
    server = daphne_server
    writer = create_account(server_env, "at-the-end-writer")
    post_id, _ = post_with_comments(server, writer, 30)
    http = await logged_in_session(server, writer)
    problems = PageProblems()
    try:
        async with chromium() as browser:
            reader = await live_reader(browser, problems, f"{server.base_url}/blog/posts/{post_id}/")
            # At the top, reading the post: the comment lands below everything on the screen.
            above = await post_comment(http, server, post_id, "while reading the post")
            await expect(reader.locator(f"#comment-{above}")).to_be_attached()
            await expect(reader.locator(f"#comment-{above}")).not_to_have_attribute("hidden", "")

            await reader.locator("#comments").evaluate("list => list.scrollIntoView({block: 'end'})")
            at_end = await post_comment(http, server, post_id, "while at the end")
            await expect(reader.locator(f"#comment-{at_end}")).to_be_visible()
            await expect(reader.locator(NEW_COMMENTS)).to_be_hidden()
    finally:
        await http.close()
    assert problems.messages == []


async def test_keyboard_replying_editing_and_deleting_keep_focus_where_the_reader_is(daphne_server, server_env):
    server = daphne_server
    username = create_account(server_env, "keyboard-writer")
    post_id, _ = post_with_comments(server, create_account(server_env, "keyboard-other"), 2)
    post_path = f"/blog/posts/{post_id}/"
    problems = PageProblems()
    async with chromium() as browser:
        page = await (await browser.new_context()).new_page()
        problems.watch(page, "writer")
        await log_in(page, server, username, post_path)
        await expect(page.locator(STATUS)).to_have_text("Live")
        for body in ("first of mine", "second of mine"):
            await page.fill("#comment-form textarea", body)
            await page.locator("#comment-form button[type=submit]").first.press("Enter")
            await expect(page.locator("li.comment:not(.pending)", has_text=body)).to_have_count(1)
        first = page.locator("li.comment", has_text="first of mine")
        second = page.locator("li.comment", has_text="second of mine")
        textarea = page.locator("#comment-form textarea")

        # Reply: to the box; Escape, back to the Reply link; sent, back to the Reply link.
        reply_link = first.locator(":scope > a.comment-reply")
        await reply_link.focus()
        await page.keyboard.press("Enter")
        await expect(textarea).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(reply_link).to_be_focused()
        await page.keyboard.press("Enter")
        await page.keyboard.type("a reply of mine")
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("button", name="Post comment")).to_be_focused()
        await page.keyboard.press("Enter")
        reply = first.locator("ol.comment-replies > li.comment:not(.pending)", has_text="a reply of mine")
        await expect(reply).to_have_count(1)
        await expect(reply_link).to_be_focused()

        # Edit: to the box; Escape, back to Edit; saved, back to Edit.
        edit_link = first.locator(":scope > .comment-actions a.comment-edit")
        await edit_link.focus()
        await page.keyboard.press("Enter")
        editor = first.locator("textarea[aria-label='Edit your comment']")
        await expect(editor).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(edit_link).to_be_focused()
        await page.keyboard.press("Enter")
        await page.keyboard.press("ControlOrMeta+A")
        await page.keyboard.type("first of mine, edited")
        await page.keyboard.press("Tab")
        await expect(first.get_by_role("button", name="Save")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(first.locator(":scope > .comment-body")).to_have_text("first of mine, edited")
        await expect(edit_link).to_be_focused()

        # Delete: to the next comment (the reply's next is the second comment); the last, to the heading.
        await reply.get_by_role("button", name="Delete").focus()
        await page.keyboard.press("Enter")
        await expect(reply).to_have_count(0)
        await expect(second).to_be_focused()
        await second.get_by_role("button", name="Delete").focus()
        await page.keyboard.press("Enter")
        await expect(second).to_have_count(0)
        await expect(page.locator(HEADING)).to_be_focused()
    assert problems.messages == []


async def test_every_comment_control_is_reached_with_tab_and_shows_its_focus(daphne_server, server_env):
    server = daphne_server
    username = create_account(server_env, "tabbing-writer")
    post_id, _ = post_with_comments(server, create_account(server_env, "tabbing-other"), 1)
    problems = PageProblems()
    async with chromium() as browser:
        page = await (await browser.new_context()).new_page()
        problems.watch(page, "writer")
        await log_in(page, server, username, f"/blog/posts/{post_id}/")
        await expect(page.locator(STATUS)).to_have_text("Live")
        await page.fill("#comment-form textarea", "tab to me")
        await page.click("#comment-form button[type=submit]")
        await expect(page.locator("li.comment:not(.pending)", has_text="tab to me")).to_have_count(1)
        await page.evaluate("document.activeElement.blur()")

        reached: dict[str, str] = {}
        for _ in range(80):
            await page.keyboard.press("Tab")
            name, outline = await page.evaluate(
                """() => {
                    const el = document.activeElement;
                    const name = (el.textContent || el.getAttribute('aria-label') || el.name || '').trim();
                    const comment = el.closest('li.comment');
                    const where = comment ? comment.querySelector('.comment-body').textContent.trim() + ': ' : '';
                    return [where + name, getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth];
                }"""
            )
            if name in reached:
                break
            reached[name] = outline
        wanted = [
            "Skip to content",
            "comment 1: Reply",
            "comment 1: Flag",
            "tab to me: Reply",
            "tab to me: Edit",
            "tab to me: Delete",
            "body",
            "Post comment",
            "Preview",
        ]
        for control in wanted:
            assert control in reached, f"{control!r} is not reached with Tab: {list(reached)}"
            assert reached[control] == "solid 2px", f"{control!r} shows no focus: {reached[control]}"
    assert problems.messages == []


@pytest.mark.parametrize(("motion", "animation"), [("reduce", "none"), ("no-preference", "comment-arrived")])
async def test_a_new_comment_is_highlighted_only_for_readers_who_welcome_motion(
    daphne_server, server_env, motion, animation
):
    server = daphne_server
    writer = create_account(server_env, f"motion-writer-{motion}")
    post_id, _ = post_with_comments(server, writer, 1)
    http = await logged_in_session(server, writer)
    problems = PageProblems()
    try:
        async with chromium() as browser:
            page = await (await browser.new_context(reduced_motion=motion)).new_page()
            problems.watch(page, "reader")
            await page.goto(f"{server.base_url}/blog/posts/{post_id}/")
            await expect(page.locator(STATUS)).to_have_text("Live")
            new_id = await post_comment(http, server, post_id, "a moving one")
            arrived = page.locator(f"#comment-{new_id}")
            await expect(arrived).to_have_class("comment comment-new")
            assert await arrived.evaluate("li => getComputedStyle(li).animationName") == animation
    finally:
        await http.close()
    assert problems.messages == []


async def test_times_read_relatively_with_the_exact_time_kept_and_move_on(daphne_server, server_env):
    server = daphne_server
    writer = create_account(server_env, "times-writer")
    post_id, ids = post_with_comments(server, writer, 1)
    two_minutes_ago = datetime.now(UTC) - timedelta(minutes=2)
    server.manage(
        "shell",
        "--no-imports",
        "-c",
        "from datetime import datetime; from blog.models import Comment; "
        f"Comment.objects.filter(pk={ids[0]}).update(created=datetime.fromisoformat({two_minutes_ago.isoformat()!r}))",
    )
    problems = PageProblems()
    async with chromium() as browser:
        page = await (await browser.new_context(locale="en-US", timezone_id=PARIS)).new_page()
        problems.watch(page, "reader")
        await page.clock.install(time=datetime.now(UTC))
        await page.goto(f"{server.base_url}/blog/posts/{post_id}/")
        await expect(page.locator(STATUS)).to_have_text("Live")

        time = page.locator(f"#comment-{ids[0]} time")
        await expect(time).to_have_text("2 minutes ago")
        # The exact time stays in the markup, and shows on hover in the reader's time zone.
        written = datetime.fromisoformat(await time.get_attribute("datetime"))
        assert abs(written - two_minutes_ago) < timedelta(seconds=1)
        await expect(time).to_have_attribute("title", exact_time_pattern(written))
        byline = page.locator(".byline time")
        await expect(byline).to_have_text("just now")
        await expect(byline).to_have_attribute(
            "title", exact_time_pattern(datetime.fromisoformat(await byline.get_attribute("datetime")))
        )

        await page.clock.run_for("03:00")
        await expect(time).to_have_text("5 minutes ago")
        await expect(byline).to_have_text("3 minutes ago")
    assert problems.messages == []


def exact_time_pattern(moment: datetime) -> re.Pattern[str]:
    """Intl's full date and short time in Paris (en-US): "Sunday, December 6, 2026 at 5:07 PM"."""
    local = moment.astimezone(ZoneInfo(PARIS))
    date = f"{local:%A}, {local:%B} {local.day}, {local.year}"
    return re.compile(rf"^{date} at {local.hour % 12 or 12}:{local:%M}\W{local:%p}$")

"""Moderation in real Chromium: with every comment held, a reader's comment reaches no other reader but
appears live on a moderator's queue page; approving it there publishes it live to the readers and takes
it out of the queue."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.browser import PageProblems, chromium, log_in
from tests.e2e.conftest import DaphneServer, create_account, first_published_post_id
from tests.e2e.test_browser_journeys import STATUS, screenshot

VIEWPORT = {"width": 1000, "height": 900}


def make_moderator(server_env: dict[str, str], username: str) -> str:
    """An account in the Moderators group (migration 0011 made it in the servers' database)."""
    create_account(server_env, username)
    script = (
        "from django.contrib.auth.models import Group; from blog.models import User; "
        f"User.objects.get(username={username!r}).groups.add(Group.objects.get(name='Moderators'))"
    )
    DaphneServer(env=server_env).manage("shell", "--no-imports", "-c", script)
    return username


def flag_a_comment(server_env: dict[str, str], post_id: int, flagger: str) -> None:
    """A reader flags the post's first published comment: a published, flagged entry in the queue."""
    script = (
        "from blog.models import Comment, User; from blog.moderation.services import comment_flag; "
        f"comment = Comment.objects.public().filter(post_id={post_id}, deleted__isnull=True).order_by('id').first(); "
        f"comment_flag(comment_id=comment.pk, user=User.objects.get(username={flagger!r}), reason='off-topic')"
    )
    DaphneServer(env=server_env).manage("shell", "--no-imports", "-c", script)


async def test_a_held_comment_is_approved_live_from_the_queue(start_daphne, server_env):
    server = start_daphne(BLOG_COMMENT_MODERATION="all")
    post_id = await first_published_post_id(server)
    post_path = f"/blog/posts/{post_id}/"
    writer_name = create_account(server_env, "held-writer")
    onlooker_name = create_account(server_env, "held-onlooker")
    moderator_name = make_moderator(server_env, "queue-moderator")
    flag_a_comment(server_env, post_id, onlooker_name)
    text = "A first comment, for a moderator to approve"
    problems = PageProblems()
    async with chromium() as browser:
        moderator = await (await browser.new_context(viewport=VIEWPORT)).new_page()
        problems.watch(moderator, "moderator")
        await log_in(moderator, server, moderator_name, "/moderation/")
        await expect(moderator.locator(STATUS)).to_have_text("Live")
        flagged = moderator.locator("li.moderation-item", has_text="Flagged")
        await expect(flagged.get_by_role("button", name="Hide")).to_be_visible()
        await expect(flagged).to_contain_text("Flags: off-topic 1")

        onlooker = await (await browser.new_context(viewport=VIEWPORT)).new_page()
        problems.watch(onlooker, "onlooker")
        await log_in(onlooker, server, onlooker_name, post_path)
        await expect(onlooker.locator(STATUS)).to_have_text("Live")

        writer = await (await browser.new_context(viewport=VIEWPORT)).new_page()
        problems.watch(writer, "writer")
        await log_in(writer, server, writer_name, post_path)
        await expect(writer.locator(STATUS)).to_have_text("Live")
        await writer.fill("#comment-form textarea", text)
        await writer.click("#comment-form button[type=submit]")

        # On the queue without a reload, with why it waits.
        entry = moderator.locator("li.moderation-item", has_text=text)
        await expect(entry).to_have_count(1)
        await expect(entry.locator(".moderation-status")).to_have_text("Awaiting approval")
        await expect(entry).to_contain_text(f"By {writer_name}")
        await expect(entry).to_contain_text("Held because every comment waits for approval")
        await expect(entry).to_contain_text("Author's history: 0 approved · 0 rejected · 0 removed · 0 flags")
        # Its author sees it, marked; the other reader does not, though the moderator already has it.
        await expect(writer.locator("li.comment", has_text=text)).to_contain_text("Awaiting approval")
        await expect(onlooker.locator("li.comment", has_text=text)).to_have_count(0)
        await screenshot(moderator, "moderation-queue")

        comment_id = await entry.get_attribute("data-comment-id")
        await entry.get_by_role("button", name="Approve").click()
        await expect(onlooker.locator("li.comment", has_text=text)).to_have_count(1)
        await expect(entry).to_have_count(0)
        await expect(moderator.locator("#moderation-message")).to_contain_text("Comment published.")
        announcer = moderator.locator("#moderation-announcer")
        await expect(announcer).to_have_text(f"Comment {comment_id} approved by {moderator_name}.")
        await expect(moderator.locator("li.moderation-item")).to_have_count(1)  # the flagged one stays

        # An author's hold changes no entry's place in the queue: the page shows it at once all the same.
        await flagged.get_by_role("button", name="Always hold").click()
        await expect(moderator.locator("#moderation-message")).to_contain_text("Saved: this author's comments are held")
        await expect(flagged.get_by_role("button", name="Stop holding")).to_be_visible()
        await expect(flagged).to_contain_text("(always held)")
    assert problems.messages == []

"""The live page in real Chromium after a `resync`: the whole list is reloaded, edits and deletions included."""

from __future__ import annotations

import asyncio

from playwright.async_api import expect

from blog.posts import versions as post_versions
from tests.e2e.browser import LIVE_STATUS as STATUS
from tests.e2e.browser import PageProblems, chromium, live_reader

MISSED = 201  # one more than the server replays: it answers resync


def shell(server, script: str) -> str:
    return server.manage("shell", "--no-imports", "-c", script).strip()


async def test_after_a_resync_the_page_shows_the_servers_list_with_edits_and_deletions(start_daphne):
    server = start_daphne()
    post_id, kept_id, gone_id = shell(
        server,
        "from django.utils import timezone; from blog.models import Comment, Post, User; "
        "editor = User.objects.get(username='editor'); "
        "post = Post.objects.create(title='Busy while away', body='x', status='published', "
        "published_at=timezone.now(), author=editor); "
        "kept = Comment.objects.create(post=post, author=editor, body='before the outage'); "
        "gone = Comment.objects.create(post=post, author=editor, body='deleted while away'); "
        "print(post.pk, kept.pk, gone.pk)",
    ).split()
    problems = PageProblems()
    async with chromium() as browser:
        reader = await live_reader(browser, problems, f"{server.base_url}/blog/posts/{post_id}/")
        await expect(reader.locator("li.comment")).to_have_count(2)

        server.stop()
        await expect(reader.locator(STATUS)).to_have_text("Reconnecting…", timeout=5000)
        shell(
            server,
            "from django.utils import timezone; from blog.models import Comment, User; "
            f"Comment.objects.filter(pk={kept_id}).update(body='edited while away', edited=timezone.now()); "
            f"Comment.objects.filter(pk={gone_id}).delete(); editor = User.objects.get(username='editor'); "
            f"Comment.objects.bulk_create(Comment(post_id={post_id}, author=editor, body=f'missed {{n}}') "
            f"for n in range({MISSED}))",
        )
        # Writes that bypass the blog's services show once the cached post has expired: with Redis,
        # the entry the page filled outlives the restart.
        await asyncio.sleep(post_versions.ENTRY_SECONDS)
        server.start()

        await expect(reader.locator(STATUS)).to_have_text("Live", timeout=20_000)
        comments = reader.locator("li.comment")
        await expect(comments).to_have_count(1 + MISSED, timeout=10_000)
        await expect(reader.locator(f"#comment-{kept_id} .comment-body")).to_have_text("edited while away")
        await expect(reader.locator(f"#comment-{gone_id}")).to_have_count(0)
        await expect(reader.locator(f"#comment-{kept_id} .comment-edited")).to_be_visible()
    assert problems.apart_from_the_server_being_down() == []

"""The recipe's micro-cache with real nginx and daphne (tests/e2e/nginx_site.py).

nginx stores what the app marks `Cache-Control: public` for anonymous readers, for the seconds
the app says, and keeps logged-in readers, drafts and the account pages out of it. What reached
the app is counted in the daphne processes' access logs. Each test reads its pages under a query
string of its own, which is part of the cache key, so no test sees another's cached copy.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Iterator

import aiohttp
import pytest

from tests.e2e.conftest import DaphneServer, csrf_token, first_published_post_id
from tests.e2e.nginx_site import RECIPE, SITE_ORIGIN, Site, browser, log_in_through_nginx, running_site

SIGNED_IN = "Signed in as <strong>{}</strong>"
# A reader who reloads while a comment is being written gives up after this long past the expiry.
FRESH_WITHIN_SECONDS = 10


@pytest.fixture(scope="module")
def site(server_env, private_redis, tmp_path_factory) -> Iterator[Site]:
    with running_site(server_env, private_redis, tmp_path_factory.mktemp("nginx-cache")) as running:
        yield running


@pytest.fixture
async def post_id(site) -> int:
    return await first_published_post_id(site.processes[0], headers={"X-Forwarded-Proto": "https"})


def fresh(path: str) -> str:
    """`path` under a query string no other request used: a cache entry of its own."""
    return f"{path}?reader={secrets.token_hex(6)}"


def max_age(response: aiohttp.ClientResponse) -> int:
    cache_control = response.headers.get("Cache-Control", "")
    assert "public" in cache_control, f"the app did not mark this page public: {cache_control!r}"
    return int(re.search(r"max-age=(\d+)", cache_control).group(1))


async def read(client: aiohttp.ClientSession, site: Site, path: str) -> tuple[int, str, str]:
    """Status, X-Cache-Status and body of one GET through nginx."""
    async with client.get(site.https + path, allow_redirects=False) as response:
        return response.status, response.headers.get("X-Cache-Status", ""), await response.text()


@pytest.mark.parametrize(
    "page", ["/blog/", "/blog/posts/{post_id}/", "/blog/posts/{post_id}/comments/"], ids=["index", "post", "json"]
)
async def test_a_second_anonymous_read_is_served_by_nginx_without_the_app(site, post_id, page):
    path = fresh(page.format(post_id=post_id))
    async with browser() as reader:
        async with reader.get(site.https + path) as first:
            assert (first.status, first.headers["X-Cache-Status"]) == (200, "MISS")
            max_age(first)
            body = await first.text()
        assert await read(reader, site, path) == (200, "HIT", body)
        async with reader.head(site.https + path) as head:
            assert (head.status, head.headers["X-Cache-Status"]) == (200, "HIT")
    assert site.app_requests(path) == 1


async def test_a_burst_of_anonymous_readers_on_a_cold_page_costs_the_app_one_request(site, post_id):
    """proxy_cache_lock: the readers who arrive while the first one's page is on its way wait for it."""
    path = fresh(f"/blog/posts/{post_id}/")
    readers = 20
    async with browser() as client:
        # Connections opened beforehand (static files: no request limit), so the burst is one.
        static = re.search(r'src="(/static/[^"]+\.js)"', (await read(client, site, f"/blog/posts/{post_id}/"))[2])
        await asyncio.gather(*(read(client, site, static.group(1)) for _ in range(readers)))
        answers = await asyncio.gather(*(read(client, site, path) for _ in range(readers)))
    assert {status for status, _, _ in answers} == {200}
    assert len({body for _, _, body in answers}) == 1
    assert site.app_requests(path) == 1


async def test_a_logged_in_reader_is_never_served_from_the_cache_nor_stored_in_it(site, post_id):
    """Another user's page never reaches an anonymous reader, nor an anonymous page a logged-in one."""
    cached_first, logged_in_first = fresh(f"/blog/posts/{post_id}/"), fresh(f"/blog/posts/{post_id}/")
    async with browser() as anonymous, browser() as reader:
        await log_in_through_nginx(reader, site, "reader")
        assert (await read(anonymous, site, cached_first))[:2] == (200, "MISS")
        status, cache_status, body = await read(reader, site, cached_first)
        assert (status, cache_status) == (200, "BYPASS")
        assert SIGNED_IN.format("reader") in body

        status, cache_status, body = await read(reader, site, logged_in_first)
        assert (status, cache_status) == (200, "BYPASS")
        assert SIGNED_IN.format("reader") in body
        for expected in ("MISS", "HIT"):
            status, cache_status, body = await read(anonymous, site, logged_in_first)
            assert (status, cache_status) == (200, expected)
            assert "Signed in as" not in body
    assert site.app_requests(cached_first) == 2
    assert site.app_requests(logged_in_first) == 2


async def test_a_draft_read_by_its_author_never_reaches_anonymous_readers(site):
    async with browser() as author, browser() as anonymous:
        await log_in_through_nginx(author, site, "writer")
        drafts = (await read(author, site, "/blog/drafts/"))[2]
        path = re.search(r'href="(/blog/posts/\d+/)"', drafts).group(1)
        async with author.get(site.https + path) as page:
            assert (page.status, page.headers["X-Cache-Status"]) == (200, "BYPASS")
            assert "public" not in page.headers.get("Cache-Control", "")
            title = re.search(r"<h1>([^<]+)", await page.text()).group(1).strip()
        for _ in range(2):
            status, cache_status, body = await read(anonymous, site, path)
            assert (status, cache_status) == (404, "MISS")
            assert title not in body
    assert site.app_requests(path) == 3


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
async def test_account_and_admin_pages_are_never_cached(site, path):
    async with browser() as anonymous:
        for _ in range(2):
            status, cache_status, _ = await read(anonymous, site, path)
            assert (status, cache_status) == (200, "BYPASS")


async def test_a_new_comment_shows_to_anonymous_readers_once_the_cached_page_expires(site, post_id):
    path = fresh(f"/blog/posts/{post_id}/")
    comment = f"Fresh after expiry {secrets.token_hex(4)}"
    async with browser() as anonymous, browser() as commenter:
        await log_in_through_nginx(commenter, site, "reader")
        async with anonymous.get(site.https + path) as first:
            assert first.headers["X-Cache-Status"] == "MISS"
            expires = time.monotonic() + max_age(first)
        async with commenter.post(
            f"{site.https}/blog/posts/{post_id}/comments/",
            data={"body": comment, "csrfmiddlewaretoken": csrf_token(commenter)},
            headers={"Origin": SITE_ORIGIN, "Accept": "application/json"},
        ) as posted:
            assert posted.status == 201
        status, cache_status, body = await read(anonymous, site, path)
        if time.monotonic() < expires:
            # Still within max-age: the cached copy, as the app allowed.
            assert (status, cache_status) == (200, "HIT")
            assert comment not in body
        while comment not in body:
            assert time.monotonic() < expires + FRESH_WITHIN_SECONDS, "the new comment never showed through nginx"
            await asyncio.sleep(0.2)
            status, cache_status, body = await read(anonymous, site, path)
        assert status == 200


def test_the_recipe_recognises_the_session_cookie_the_app_sets(site):
    """The cache is skipped by cookie name: a renamed session cookie would put pages of logged-in
    readers in the cache, so the name in the recipe is checked against the settings it runs with."""
    settings = "from django.conf import settings; print(settings.SESSION_COOKIE_NAME)"
    name = DaphneServer(env=site.processes[0].env).manage("shell", "--no-imports", "-c", settings).strip()
    recognised = f"map $cookie_{name} $asgi_blog_logged_in" in RECIPE.read_text()
    assert recognised, f"{RECIPE} does not skip the cache for requests with the session cookie {name!r}"

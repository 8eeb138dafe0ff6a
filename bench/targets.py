"""The servers a benchmark section drives: the app and the raw ceilings, and the site they share.

A target is a set of daphne processes (or the bare `websockets` server) with the
URLs readers connect to and a writer that sends one comment. The app's writer
posts through its own WebSocket (`comment.create`); a ceiling's writer sends the
frame the app would broadcast, built from one captured from the app at set-up, so
both carry frames of the same length. With two processes the ceiling's writer
sends each frame to both, as the layer does for the app.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench import load
from tests.processes import (
    PROJECT_ROOT,
    DaphneServer,
    free_port,
    logged_in_session,
    open_files_as_allowed,
    stop,
    wait_for_port,
)

WRITER = "bench-writer"
IDLE_POSTS = 100
WRITER_ATTEMPTS = 5
# Comments on the posts whose pages the HTTP rows measure (the post page at each length).
PAGE_LENGTHS = (200, 2_000, 20_000)
LAYERS = {"redis": "app-redis", "redis-pubsub": "app-redis-pubsub"}

SETUP_SCRIPT = """
from django.utils import timezone
from blog.models import Comment, Post, User
writer, created = User.objects.get_or_create(username={writer!r})
if created:
    writer.set_password("asgi-blog-demo")
    writer.save()
def post(title):
    return Post.objects.get_or_create(title=title, defaults=dict(
        body="Benchmark.", author=writer, status="published", published_at=timezone.now()))[0]
posts = [post(f"Bench post {{n}}") for n in range({idle_posts})]
pages = []
for length in {lengths!r}:
    page = post(f"Bench page with {{length}} comments")
    if not page.comments.exists():
        Comment.objects.bulk_create(
            (Comment(post=page, author=writer, body=f"Comment {{n}}") for n in range(length)), batch_size=2000)
    pages.append(page)
print(",".join(str(p.pk) for p in posts))
print(",".join(str(p.pk) for p in pages))
"""

# Saves comments through the app's own service while no server runs (the storm's down time).
SAVE_SCRIPT = """
from blog.models import Post, User
from blog.comments.services import comment_post
post, author = Post.objects.get(pk={post_id}), User.objects.get(username={writer!r})
print(",".join(str(comment_post(post=post, author=author, body=f"{body} {{n}}").comment.pk) for n in range({count})))
"""

Send = Callable[[str], Awaitable[None]]

# The Python the servers run on: `make bench` gives them a virtualenv of the runtime requirements
# alone, as deployed (Makefile, SERVE_VENV).
SERVER_PYTHON = os.environ.get("BENCH_SERVER_PYTHON") or sys.executable


@dataclass
class Site:
    env: dict[str, str]
    posts: list[int]  # IDLE_POSTS published posts without comments; the first carries the live sections
    pages: dict[int, int]  # comments -> post id

    @property
    def live_post(self) -> int:
        return self.posts[0]


def site_env(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "asgi_blog.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        # One writer posts the whole run; every other protection stays on.
        "BLOG_COMMENT_RATE_LIMIT": "0",
        "REDIS_URL": "",
    }


def prepare_site(workdir: Path, lengths: tuple[int, ...] = PAGE_LENGTHS) -> Site:
    env = site_env(workdir)
    manager = DaphneServer(env=env, python=SERVER_PYTHON)
    manager.manage("migrate", "--noinput")
    manager.manage("collectstatic", "--noinput")
    script = SETUP_SCRIPT.format(writer=WRITER, idle_posts=IDLE_POSTS, lengths=list(lengths))
    posts_line, pages_line = manager.manage("shell", "--no-imports", "-c", script).strip().splitlines()[-2:]
    pages = [int(pk) for pk in pages_line.split(",")]
    return Site(env, [int(pk) for pk in posts_line.split(",")], dict(zip(lengths, pages, strict=True)))


def save_comments(env: dict[str, str], post_id: int, body: str, count: int) -> list[int]:
    """Save comments through blog.comments.services.comment_post in a process of its own; their ids."""
    script = SAVE_SCRIPT.format(post_id=post_id, writer=WRITER, body=body, count=count)
    output = DaphneServer(env=env, python=SERVER_PYTHON).manage("shell", "--no-imports", "-c", script)
    return [int(pk) for pk in output.strip().splitlines()[-1].split(",")]


@asynccontextmanager
async def drained(ws: aiohttp.ClientWebSocketResponse) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """Read and drop what the writer's own socket receives, so it never backs up; answer the app's pings."""

    async def drain() -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT and message.data.startswith(load.PING_PREFIX):
                await ws.send_str(load.pong(message.data))

    task = asyncio.create_task(drain())
    try:
        yield ws
    finally:
        task.cancel()
        await ws.close()


async def writer_socket(
    session: aiohttp.ClientSession, server: DaphneServer, post_id: int
) -> aiohttp.ClientWebSocketResponse:
    """The writer's socket; a busy server may refuse a handshake (1013, or daphne's timeout), so retry a few times."""
    url = server.ws_url(f"/ws/posts/{post_id}/comments/")
    for attempt in range(WRITER_ATTEMPTS):
        try:
            ws = await session.ws_connect(url, origin=server.origin)
            first = await ws.receive(timeout=30)
            if first.type == aiohttp.WSMsgType.TEXT:
                return ws
        except (aiohttp.ClientError, OSError, TimeoutError):
            pass
        await asyncio.sleep(2**attempt)
    raise RuntimeError(f"the writer could not connect to {url} in {WRITER_ATTEMPTS} attempts")


@asynccontextmanager
async def app_writer(server: DaphneServer, post_id: int) -> AsyncIterator[Send]:
    session = await logged_in_session(server, WRITER)
    try:
        ws = await writer_socket(session, server, post_id)
        async with drained(ws):

            async def send(body: str) -> None:
                await ws.send_str(json.dumps({"type": "comment.create", "body": body}))

            yield send
    finally:
        await session.close()


async def capture_comment_frame(server: DaphneServer, post_id: int, body: str) -> str:
    """Post one comment through the app and return the comment.created frame its readers get."""
    async with aiohttp.ClientSession() as session:
        reader = await session.ws_connect(server.ws_url(f"/ws/posts/{post_id}/comments/"), origin=server.origin)
        async with app_writer(server, post_id) as send:
            await send(body)
            async with asyncio.timeout(10):
                async for message in reader:
                    created = message.type == aiohttp.WSMsgType.TEXT and '"comment.created"' in message.data
                    if created and json.loads(message.data)["comment"]["body"] == body:
                        await reader.close()
                        return message.data
    raise RuntimeError("the app never broadcast the captured comment")


def ceiling_frame_template(captured: str, body: str) -> str:
    """The captured frame with each copy of its body as a `{body}` slot: the ceiling's frame for a body of that length.

    The body appears twice in a comment frame: as typed ("body") and rendered ("html", a plain
    body in a paragraph), so the ceiling's frame grows with the body exactly as the app's does.
    """
    if body not in captured:
        raise RuntimeError(f"the marker body must appear in the captured frame: {captured}")
    return captured.replace("{", "{{").replace("}", "}}").replace(body, "{body}")


@asynccontextmanager
async def ceiling_writer(urls: list[str], origin: str, template: str) -> AsyncIterator[Send]:
    async with aiohttp.ClientSession() as session, AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(drained(await session.ws_connect(url, origin=origin))) for url in urls
        ]

        async def send(body: str) -> None:
            frame = template.format(body=body)
            await asyncio.gather(*(ws.send_str(frame) for ws in sockets))

        yield send


@dataclass
class Target:
    name: str
    servers: list[DaphneServer]
    reader_urls: list[str]
    origin: str
    pids: list[int]
    writer: Callable[[], AbstractAsyncContextManager[Send]]


@asynccontextmanager
async def websockets_ceiling(template: str) -> AsyncIterator[Target]:
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220, S603 - started once, before any measuring
        [sys.executable, "-m", "bench.ceilings", "--port", str(port)],
        cwd=PROJECT_ROOT,
        preexec_fn=open_files_as_allowed,
    )
    try:
        wait_for_port(port, process, "websockets server")
        url, origin = f"ws://127.0.0.1:{port}/", f"http://127.0.0.1:{port}"
        yield Target("websockets", [], [url], origin, [process.pid], lambda: ceiling_writer([url], origin, template))
    finally:
        stop(process)


@asynccontextmanager
async def raw_asgi_ceiling(env: dict[str, str], template: str, processes: int = 1) -> AsyncIterator[Target]:
    # DaphneServer runs daphne with the app's flags (DAPHNE_FLAGS), so the ceiling has them too.
    servers = [
        DaphneServer(env=env, application="bench.ceilings:raw_broadcast_app", python=SERVER_PYTHON)
        for _ in range(processes)
    ]
    try:
        for server in servers:
            await asyncio.to_thread(server.start)
        urls = [server.ws_url("/") for server in servers]
        name = "raw-asgi" if processes == 1 else f"raw-asgi-x{processes}"
        origin = servers[0].origin
        yield Target(
            name,
            servers,
            urls,
            origin,
            [s.process.pid for s in servers],
            lambda: ceiling_writer(urls, origin, template),
        )
    finally:
        for server in servers:
            server.stop()


@asynccontextmanager
async def app(env: dict[str, str], post_id: int, processes: int = 1, name: str = "app") -> AsyncIterator[Target]:
    servers = [DaphneServer(env=env, python=SERVER_PYTHON) for _ in range(processes)]
    # Readers spread over the processes all come from the first one's page, as they would from one
    # site behind a proxy: that origin is not the other processes' own, so they are told to trust it.
    trusted = {**env, "DJANGO_CSRF_TRUSTED_ORIGINS": servers[0].origin}
    try:
        for server in servers:
            server.env = trusted
            await asyncio.to_thread(server.start)
        yield Target(
            name,
            servers,
            [server.ws_url(f"/ws/posts/{post_id}/comments/") for server in servers],
            servers[0].origin,
            [server.process.pid for server in servers],
            lambda: app_writer(servers[0], post_id),
        )
    finally:
        for server in servers:
            server.stop()


def app_on_redis(env: dict[str, str], redis_url: str, layer: str, post_id: int, processes: int = 2):
    """The app on `processes` daphne processes sharing Redis through the channels-redis `layer`."""
    layered = {**env, "REDIS_URL": redis_url, "BLOG_CHANNEL_LAYER": layer}
    return app(layered, post_id, processes=processes, name=LAYERS[layer])

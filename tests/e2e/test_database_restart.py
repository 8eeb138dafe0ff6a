"""PostgreSQL restarts under a running daphne: pages, comments and the hub's database check recover by themselves.

The servers use a private PostgreSQL cluster (initdb in a temporary folder, on a
free port), which the test restarts and finally stops by its own pid.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psycopg
import pytest

from blog.comments.markup import render_comment_body
from tests.e2e.conftest import first_published_post_id, logged_in_session, migrate_and_seed, receive
from tests.e2e.test_resilience import post_over_http
from tests.processes import free_port

# The hub compares with the database every 3 seconds; allow for two rounds and a slow machine.
CATCH_UP_SECONDS = 10
STOP_SECONDS = 30


@dataclass
class PostgresCluster:
    """A PostgreSQL cluster of the test's own, run as the postgres user (postgres refuses root)."""

    bin_dir: Path
    root: Path
    port: int = field(default_factory=free_port)

    @classmethod
    def create(cls) -> PostgresCluster:
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(Path(path).parent.name))
        if not versions:
            pytest.fail("PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin): install postgresql")
        # Under /tmp itself: pytest's own temporary folders are private to root.
        cluster = cls(bin_dir=Path(versions[-1]), root=Path(tempfile.mkdtemp(prefix="asgi-blog-pg-")))
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(cluster.root, owner.pw_uid, owner.pw_gid)
        cluster.run("initdb", "-D", str(cluster.data), "--auth=trust", "--username=postgres", "--no-sync")
        options = f"-p {cluster.port} -k {cluster.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        cluster.run("pg_ctl", "-D", str(cluster.data), "-l", str(cluster.root / "log"), "-o", options, "-w", "start")
        cluster.run("createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "asgi_blog")
        return cluster

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/asgi_blog"

    def run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, f"{program} failed: {result.stdout}{result.stderr}"

    def restart(self) -> None:
        """Every connection is dropped; pg_ctl returns once the server accepts connections again."""
        # The log file again: without it the server would hold on to our output pipe.
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-m", "fast", "-w", "restart")

    def stop(self) -> None:
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster.create()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="module")
def server_database(cluster, collected_static) -> str:
    """The servers of this module use the private cluster, migrated and seeded like the others."""
    migrate_and_seed(cluster.url, collected_static)
    return cluster.url


async def next_comment(ws: aiohttp.ClientWebSocketResponse, within: float = 5) -> str:
    while (frame := await receive(ws, within))["type"] != "comment.created":
        pass
    return frame["comment"]["body"]


async def comment_over_socket(ws: aiohttp.ClientWebSocketResponse, body: str) -> None:
    await ws.send_json({"type": "comment.create", "body": body, "client_id": body})
    while (answer := await receive(ws))["type"] != "comment.ack":
        assert answer["type"] != "error", answer


def insert_behind_the_layer(cluster: PostgresCluster, post_id: int, username: str, body: str) -> None:
    """A comment saved by another program with no broadcast: only a database check can find it."""
    with psycopg.connect(cluster.url, autocommit=True) as database:
        database.execute(
            "INSERT INTO blog_comment (post_id, author_id, body, body_html, created) "
            "SELECT %s, id, %s, %s, now() FROM blog_user WHERE username = %s",
            (post_id, body, render_comment_body(body), username),
        )


async def test_pages_comments_and_the_hub_check_recover_from_a_database_restart(cluster, start_daphne):
    server = start_daphne()
    post_id = await first_published_post_id(server)
    username = "reader"  # seeded; this module's database is its own
    writer = await logged_in_session(server, username)
    path = server.ws_url(f"/ws/posts/{post_id}/comments/")

    async def found_by_the_database_check(body: str) -> None:
        """Saved behind the layer's back; the reader gets it from the hub's check, which then holds a connection."""
        insert_behind_the_layer(cluster, post_id, username, body)
        assert await next_comment(reader, within=CATCH_UP_SECONDS) == body

    try:
        async with (
            aiohttp.ClientSession() as anonymous,
            anonymous.ws_connect(path, origin=server.origin) as reader,
            writer.ws_connect(path, origin=server.origin) as old_socket,
        ):
            await receive(reader)
            await receive(old_socket)
            await found_by_the_database_check("before the first restart")

            cluster.restart()
            # First after the restart (a check just ran; the next is seconds away): a logged-in
            # handshake, whose session is read before any consumer handler runs, so before
            # Channels drops the dead connection.
            async with writer.ws_connect(path, origin=server.origin) as new_socket:
                assert (await receive(new_socket))["user"] == username
                await comment_over_socket(new_socket, "over a new socket")
            assert await next_comment(reader) == "over a new socket"
            await found_by_the_database_check("before the second restart")

            cluster.restart()
            # First after this restart: the hub's own check, on the connection it held before.
            await found_by_the_database_check("after the second restart")
            async with writer.get(f"{server.base_url}/blog/posts/{post_id}/") as page:
                assert page.status == 200
            await post_over_http(writer, server, post_id, "over HTTP")
            assert await next_comment(reader) == "over HTTP"
            await comment_over_socket(old_socket, "over the old socket")
            assert await next_comment(reader) == "over the old socket"
    finally:
        await writer.close()

"""Real server processes for the end-to-end tests and the benchmark.

daphne and Redis on free loopback ports; each is stopped by its own pid.
"""

from __future__ import annotations

import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_PASSWORD = "asgi-blog-demo"
STARTUP_SECONDS = 30
MAX_MESSAGE_BYTES = 65536
# How daphne is run everywhere (Makefile, deploy/, the benchmark): the frame limit matches the
# app's, and a keepalive ping a minute (not daphne's 20 s), which at 10,000 idle sockets is
# the difference between about 7% and 3% of a core. Never --proxy-headers: daphne would take
# the first X-Forwarded-For entry, which the client writes (asgi_blog/proxy.py reads proxies).
DAPHNE_FLAGS = ["--websocket-max-message-size", str(MAX_MESSAGE_BYTES), "--ping-interval", "60"]
# What /healthz adds about the task queue when no task is due (no email waiting for the worker).
TASKS_OK = {"tasks": "ok", "oldest_task_waiting_seconds": None}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{what} exited during start-up"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start listening in time")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def open_files_as_allowed() -> None:
    """Raise this process's open-file limit to the hard limit (thousands of sockets need it)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class DaphneServer:
    env: dict[str, str]
    extra_args: list[str] = field(default_factory=list)
    application: str = "asgi_blog.asgi:application"
    python: str = sys.executable
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return self.base_url

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [self.python, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self) -> DaphneServer:
        command = [self.python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        command += [*DAPHNE_FLAGS, *self.extra_args]
        # The server's log, for reading when a test fails.
        self.log_path = Path(tempfile.gettempdir()) / f"asgi-blog-daphne-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, self.application],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=open_files_as_allowed,
            )
        wait_for_port(self.port, self.process, "daphne")
        return self

    def stop(self) -> None:
        stop(self.process)


@dataclass
class RedisServer:
    """A Redis server of the test's own, on a free port; it can be stopped and started again there."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed; the multi-process tests need it")
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process, "redis-server")
        return self

    def stop(self) -> None:
        stop(self.process)


async def logged_in_session(server: DaphneServer, username: str, **headers: str) -> aiohttp.ClientSession:
    """Log in through the real login page, as a browser would, keeping the session cookie."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)
    async with session.get(f"{server.base_url}/accounts/login/") as page:
        assert page.status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', await page.text()).group(1)
    form = {"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
    async with session.post(f"{server.base_url}/accounts/login/", data=form, allow_redirects=False) as response:
        assert response.status == 302, "login failed"
    return session


def csrf_token(session: aiohttp.ClientSession) -> str:
    return next(cookie.value for cookie in session.cookie_jar if cookie.key == "csrftoken")

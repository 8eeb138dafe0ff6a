"""A real `manage.py db_worker` beside daphne: email waits in the database while the worker is down and
goes out, once, when it is back; /healthz tells the operator meanwhile."""

from __future__ import annotations

import email
import email.policy
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest

from tests.e2e.conftest import DaphneServer, create_account
from tests.processes import PROJECT_ROOT, stop

# Each wait polls for its event; these are only how long to give up after on a loaded machine.
WORKER_SENDS_WITHIN_SECONDS = 30
POLL_SECONDS = 0.1


@pytest.fixture
def mail_folder(tmp_path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def worker_env(server_env, mail_folder) -> dict[str, str]:
    """The servers' settings, with email written to files in the test's folder and a short delay."""
    return {**server_env, "DJANGO_EMAIL_FILE_PATH": str(mail_folder), "BLOG_NOTIFICATION_EMAIL_DELAY_SECONDS": "1"}


@pytest.fixture
def start_worker(worker_env, tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start `manage.py db_worker` (polling every 0.2 s); every worker started is stopped by its own pid."""
    started: list[subprocess.Popen] = []

    def start(**env: str) -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(started)}.log").open("ab")
        command = [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"]
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env={**worker_env, **env}, stdout=log, stderr=log)
        started.append(process)
        return started[-1]

    yield start
    for process in started:
        stop(process)


def manage_shell(env: dict[str, str], script: str) -> str:
    return DaphneServer(env=env).manage("shell", "--no-imports", "-c", script)


def set_address(env: dict[str, str], username: str, address: str) -> None:
    """As the account page does: through the service, which queues the link on commit."""
    manage_shell(
        env,
        "from blog.accounts.services import user_email_change; from blog.models import User; "
        f"user_email_change(user=User.objects.get(username={username!r}), email={address!r})",
    )


def delivery_statuses(env: dict[str, str], username: str) -> list[str]:
    output = manage_shell(
        env,
        "from blog.models import EmailDelivery; "
        f"print(*EmailDelivery.objects.filter(recipient__username={username!r}).order_by('id')"
        ".values_list('status', flat=True))",
    )
    return output.split()


# The file backend ends each message with this line; a file without it is still being written.
MESSAGE_END = "\n" + "-" * 79 + "\n"


def wait_for_messages(folder: Path, count: int) -> list[email.message.EmailMessage]:
    """The messages the file backend wrote (one file each, in the order written), once `count` are whole."""
    deadline = time.monotonic() + WORKER_SENDS_WITHIN_SECONDS
    while time.monotonic() < deadline:
        files = sorted(folder.iterdir(), key=lambda path: path.stat().st_mtime_ns)
        texts = [text for text in (path.read_text() for path in files) if text.endswith(MESSAGE_END)]
        if len(texts) >= count:
            return [
                email.message_from_string(text.removesuffix(MESSAGE_END), policy=email.policy.default) for text in texts
            ]
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"{count} message(s) expected in {folder}, found {len(list(folder.iterdir()))}")


def healthz(server: DaphneServer) -> tuple[int, dict]:
    try:
        with urlopen(f"{server.base_url}/healthz", timeout=10) as response:  # noqa: S310 - our own server
            return response.status, json.load(response)
    except HTTPError as error:
        return error.code, json.load(error)


def test_an_email_queued_while_the_worker_is_down_waits_and_goes_out_once_when_it_is_back(
    worker_env, start_worker, start_daphne, mail_folder
):
    server = start_daphne(DJANGO_EMAIL_FILE_PATH=str(mail_folder), BLOG_TASKS_MAX_WAIT_SECONDS="1")
    # Two people: one person's second link would wait out the minute between verification emails.
    first_person = create_account(worker_env, "mailperson")
    second_person = create_account(worker_env, "latecomer")

    # The worker runs: a link is sent, so the worker and the mail folder work.
    worker = start_worker(BLOG_SITE_URL=server.base_url)
    set_address(worker_env, first_person, "first@example.com")
    [first] = wait_for_messages(mail_folder, 1)
    assert first["To"] == "first@example.com"

    # Stopped (by its own pid): the next link waits in the database as a task and a pending row.
    stop(worker)
    assert worker.returncode is not None
    set_address(worker_env, second_person, "second@example.com")
    deadline = time.monotonic() + WORKER_SENDS_WITHIN_SECONDS
    while healthz(server)[1]["tasks"] != "late":
        assert time.monotonic() < deadline, "the waiting task never made /healthz report late"
        time.sleep(POLL_SECONDS)
    status, report = healthz(server)
    assert status == 503
    assert report["oldest_task_waiting_seconds"] > 1
    assert len(list(mail_folder.iterdir())) == 1
    assert delivery_statuses(worker_env, second_person) == ["pending"]

    # Back: it goes out, once, and the queue is healthy again.
    start_worker(BLOG_SITE_URL=server.base_url)
    messages = wait_for_messages(mail_folder, 2)
    assert messages[1]["To"] == "second@example.com"
    link = re.search(rf"{server.base_url}/accounts/email/verify/\S+/", messages[1].get_content()).group()
    deadline = time.monotonic() + WORKER_SENDS_WITHIN_SECONDS
    while healthz(server) != (200, {**report, "tasks": "ok", "oldest_task_waiting_seconds": None}):
        assert time.monotonic() < deadline, "/healthz did not recover once the worker was back"
        time.sleep(POLL_SECONDS)
    assert delivery_statuses(worker_env, second_person) == ["sent"]
    assert len(list(mail_folder.iterdir())) == 2

    # And the link it carried works against the real server, logged out.
    with urlopen(link, timeout=10) as response:  # noqa: S310 - our own server
        assert response.url.startswith(f"{server.base_url}/accounts/login/")
    verified = manage_shell(
        worker_env, f"from blog.models import User; print(User.objects.get(username={second_person!r}).verified_email)"
    )
    assert verified.strip() == "second@example.com"

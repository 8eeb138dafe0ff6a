"""The systemd units in deploy/systemd/ say what the deployment docs promise."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from tests.processes import DAPHNE_FLAGS, PROJECT_ROOT

SYSTEMD = PROJECT_ROOT / "deploy" / "systemd"
CODE = "/srv/asgi_blog"


def unit_settings(path: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) for every setting, in order; keys may repeat (ExecStart) and lines continue with \\."""
    settings, section = [], ""
    logical = path.read_text().replace("\\\n", " ").splitlines()
    for line in (line.strip() for line in logical):
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.append((section, key.strip(), value.strip()))
    return settings


def values(path: Path, key: str) -> list[str]:
    return [value for _, name, value in unit_settings(path) if name == key]


SERVICES = [SYSTEMD / "asgi-blog@.service", SYSTEMD / "asgi-blog-cleanup.service", SYSTEMD / "asgi-blog-worker.service"]


@pytest.mark.parametrize("unit", SERVICES, ids=lambda unit: unit.name)
def test_the_service_user_cannot_write_the_code_or_the_virtualenv(unit):
    assert values(unit, "User") == ["asgi-blog"]
    assert values(unit, "ProtectSystem") == ["strict"]
    writable = [path for value in values(unit, "ReadWritePaths") for path in value.split()]
    code_and_above = {CODE, "/srv", "/"}
    assert not [path for path in writable if path.rstrip("/") in code_and_above or path.startswith(CODE + "/")]
    assert values(unit, "NoNewPrivileges") == ["true"]


def test_daphne_runs_on_loopback_with_the_apps_flags_and_without_proxy_headers():
    """daphne's --proxy-headers would believe the first X-Forwarded-For entry, which the client writes."""
    (command,) = values(SYSTEMD / "asgi-blog@.service", "ExecStart")
    arguments = shlex.split(command)
    assert "--proxy-headers" not in arguments
    assert arguments[arguments.index("--bind") + 1] == "127.0.0.1"
    flags = arguments[arguments.index("--port") + 2 : -1]
    assert flags == DAPHNE_FLAGS
    assert arguments[-1] == "asgi_blog.asgi:application"


def test_the_clean_up_runs_daily():
    timer = SYSTEMD / "asgi-blog-cleanup.timer"
    assert values(timer, "OnCalendar") == ["daily"]
    assert values(timer, "Persistent") == ["true"]
    assert values(timer, "WantedBy") == ["timers.target"]


def cleanup_commands() -> list[list[str]]:
    commands = [shlex.split(value) for value in values(SYSTEMD / "asgi-blog-cleanup.service", "ExecStart")]
    return [command[command.index("manage.py") + 1 :] for command in commands]


def test_the_clean_up_clears_sessions_login_records_and_comment_changes():
    names = [command[0] for command in cleanup_commands()]
    assert {"clearsessions", "axes_reset_logs", "prune_comment_changes"} <= set(names)


@pytest.mark.parametrize("command", cleanup_commands(), ids=lambda command: command[0])
def test_each_clean_up_command_exists_and_accepts_its_arguments(command):
    name, *arguments = command
    app = get_commands().get(name)
    assert app is not None, f"no management command {name!r}"
    # Parsing checks the flags without running anything.
    load_command_class(app, name).create_parser("manage.py", name).parse_args(arguments)


def test_the_worker_runs_db_worker_without_the_code_reloader():
    """The reloader would watch the code and restart on its own; systemd restarts it instead."""
    (command,) = values(SYSTEMD / "asgi-blog-worker.service", "ExecStart")
    name, *arguments = shlex.split(command)[shlex.split(command).index("manage.py") + 1 :]
    assert name == "db_worker"
    assert "--no-reload" in arguments
    assert values(SYSTEMD / "asgi-blog-worker.service", "Restart") == ["always"]
    parsed = load_command_class(get_commands()[name], name).create_parser("manage.py", name).parse_args(arguments)
    assert parsed.reload is False

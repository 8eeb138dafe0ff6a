from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from asgi_blog.settings import parse_rate

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def python(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run Python in the project with only the given settings variables (none from this shell)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    environment.update(env, DJANGO_SETTINGS_MODULE="asgi_blog.settings")
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def start_django(**env: str) -> subprocess.CompletedProcess:
    return python("-c", "import django; django.setup()", **env)


def test_server_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = start_django()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_starts_with_the_dev_key():
    assert start_django(DJANGO_DEBUG="1").returncode == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10/60", (10, 60)), ("0", None), ("", None), (" 3/5 ", (3, 5))],
)
def test_comment_rate_setting(value, expected):
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["ten", "10", "10/0", "-1/60", "10/x"])
def test_bad_comment_rate_setting_is_refused_clearly(value):
    with pytest.raises(ImproperlyConfigured, match="BLOG_COMMENT_RATE_LIMIT"):
        parse_rate(value)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return python("manage.py", *args, **env)


PRODUCTION = {
    "DJANGO_SECRET_KEY": "a-long-random-production-key-" + "x9Kq2LmZ4vR7tB1nW8yH3jF6pD0sG5cA",
    "DJANGO_ALLOWED_HOSTS": "blog.example.com",
    "DJANGO_HTTPS": "1",
}


def test_production_profile_passes_the_deployment_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_deployment_checks_fail_without_https_settings():
    """The check above can fail: without DJANGO_HTTPS the same command reports the missing protections."""
    plain = {key: value for key, value in PRODUCTION.items() if key != "DJANGO_HTTPS"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **plain)
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr


def setting_values(*names: str, **env: str) -> list[str]:
    script = "from django.conf import settings; " + "; ".join(f"print(settings.{name})" for name in names)
    result = manage("shell", "--no-imports", "-c", script, **PRODUCTION, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_no_proxy_is_trusted_by_default():
    assert setting_values("BLOG_TRUSTED_PROXIES", "CSRF_TRUSTED_ORIGINS") == ["[]", "[]"]


def test_trusted_proxies_and_origins_come_from_the_environment():
    values = setting_values(
        "BLOG_TRUSTED_PROXIES",
        "CSRF_TRUSTED_ORIGINS",
        BLOG_TRUSTED_PROXIES="127.0.0.1, ::1",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://blog.example.com",
    )
    assert values == ["['127.0.0.1', '::1']", "['https://blog.example.com']"]


def test_forwarded_proto_is_left_to_the_trusted_proxy_middleware():
    """Django's own header check would believe X-Forwarded-Proto from any peer; the scope's scheme is set
    by asgi_blog/proxy.py from trusted proxies only. The old variable no longer turns it on."""
    assert setting_values("SECURE_PROXY_SSL_HEADER", DJANGO_TRUST_X_FORWARDED_PROTO="1") == ["None"]


def test_every_middleware_runs_in_the_event_loop(settings):
    """One sync-only middleware makes Django run the whole chain through a thread and back, on every request."""
    sync_only = [path for path in settings.MIDDLEWARE if not getattr(import_string(path), "async_capable", False)]
    assert sync_only == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BLOG_COMMENT_MODERATION", "sometimes"),
        ("BLOG_FLAG_THRESHOLD", "0"),
        ("BLOG_FLAG_THRESHOLD", "three"),
        ("BLOG_SPAM_MAX_LINKS", "-1"),
        ("BLOG_SPAM_MAX_LINKS", "many"),
    ],
)
def test_bad_moderation_settings_stop_the_server_naming_the_variable(variable, value):
    result = start_django(DJANGO_DEBUG="1", **{variable: value})
    assert result.returncode != 0
    assert f"{variable} must be" in result.stderr


@pytest.mark.parametrize(("value", "engine"), [("database", "backends.db"), ("cache", "backends.cache")])
def test_the_session_store_is_chosen_by_setting(value, engine):
    [chosen] = setting_values("SESSION_ENGINE", DJANGO_DEBUG="1", BLOG_SESSION_STORE=value)
    assert chosen == f"django.contrib.sessions.{engine}"


def test_an_unknown_session_store_stops_the_server_naming_the_variable():
    result = start_django(DJANGO_DEBUG="1", BLOG_SESSION_STORE="cookies")
    assert result.returncode != 0
    assert "BLOG_SESSION_STORE must be 'database' or 'cache'" in result.stderr

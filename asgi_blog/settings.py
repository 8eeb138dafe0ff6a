"""Settings for asgi_blog: one file, configured by environment variables.

Every variable has a safe default for local development; production needs
only DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and REDIS_URL
(and DJANGO_HTTPS=1 when served over HTTPS). docs/configuration.md lists them all.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def parse_rate(value: str, setting: str = "BLOG_COMMENT_RATE_LIMIT") -> tuple[int, int] | None:
    """Parse "N/S" (N per S seconds) for the named setting; "0" or "" turns the limit off."""
    value = value.strip()
    if value in {"", "0"}:
        return None
    try:
        count, _, seconds = value.partition("/")
        rate = int(count), int(seconds)
    except ValueError:
        raise ImproperlyConfigured(f"{setting} must look like 10/60 (N per S seconds) or 0, not {value!r}.") from None
    if rate[0] < 1 or rate[1] < 1:
        raise ImproperlyConfigured(f"{setting} needs N >= 1 and S >= 1, or 0 for off.")
    return rate


SECOND_FACTOR_GROUPS = ("staff", "publishers")


def parse_required_second_factor(value: str) -> frozenset[str]:
    """BLOG_REQUIRE_2FA: "off", or who must give a second factor, comma-separated ("staff,publishers")."""
    groups = {group.strip() for group in value.split(",") if group.strip()}
    if groups == {"off"}:
        return frozenset()
    if not groups or not groups <= set(SECOND_FACTOR_GROUPS):
        raise ImproperlyConfigured(
            f"BLOG_REQUIRE_2FA must be 'staff,publishers', 'staff', 'publishers' or 'off', not {value!r}."
        )
    return frozenset(groups)


def env_rate(setting: str, default: str) -> tuple[int, int] | None:
    return parse_rate(os.environ.get(setting, default), setting)


DEBUG = env_flag("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. It is required when DJANGO_DEBUG is off; "
            'generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production"  # noqa: S105 - debug only
# Old keys stay valid for sessions and signed tokens while they are rotated out.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", "")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    # daphne first, so that runserver serves ASGI (check daphne.E001).
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # For the search vector's field (blog/search/): on SQLite it is a text column left empty, and
    # this app's set-up touches only PostgreSQL connections.
    "django.contrib.postgres",
    "channels",
    "axes",
    # Two-factor sign-in: authenticator-app codes (TOTP) and recovery codes (static tokens).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks_db",
    "taggit",
    "blog",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the same process, compressed and cached forever under hashed names.
    "servestatic.middleware.ServeStaticMiddleware",
    # Outside the session, CSRF and messages middleware, so it sees every cookie they set.
    "blog.cache_control.cache_control_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before resolved_user_middleware: it wraps request.auser(), so the resolved user carries otp_device.
    "django_otp.middleware.OTPMiddleware",
    "blog.middleware.resolved_user_middleware",
    # After the user is resolved: last seen, at most once a minute, on the session's record.
    "blog.accounts.sessions.middleware.session_record_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages: it sends a user who needs a second factor where to give it, saying why.
    "blog.accounts.two_factor.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "asgi_blog.urls"
ASGI_APPLICATION = "asgi_blog.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "blog.notifications.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections would be opened per async task and never reused.
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while a comment is written; the timeout waits out
    # a concurrent writer instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

REDIS_URL = os.environ.get("REDIS_URL", "")
# redis-py 8 gives up on any read after 5 s by default, and channels-redis's receive blocks in
# Redis (BZPOPMIN) for 5 s: an idle receive would fail every 5 s and leave the hub backing
# off while comments wait. A longer read timeout lets Redis end the blocking read first and
# still notices a Redis that stopped answering.
REDIS_LAYER_READ_TIMEOUT_SECONDS = 10
# Which channels-redis layer carries broadcasts between processes (docs/configuration.md).
BLOG_CHANNEL_LAYER = os.environ.get("BLOG_CHANNEL_LAYER", "redis")
if BLOG_CHANNEL_LAYER not in ("redis", "redis-pubsub"):
    raise ImproperlyConfigured(f"BLOG_CHANNEL_LAYER must be 'redis' or 'redis-pubsub', not {BLOG_CHANNEL_LAYER!r}")
if REDIS_URL and BLOG_CHANNEL_LAYER == "redis-pubsub":
    # Pub/sub keeps no queue in Redis, so it takes no capacity or expiry: only the hosts.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": REDIS_LAYER_READ_TIMEOUT_SECONDS}]},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
elif REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": REDIS_LAYER_READ_TIMEOUT_SECONDS}],
                # Each process has one channel for all its sockets (realtime/hub.py), so
                # a burst of comments must fit in it: past capacity the layer drops.
                "capacity": 1000,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    # One process only: the in-process layer and cache are not shared.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "blog.User"
AUTHENTICATION_BACKENDS = [
    # Refuses every login from an address with too many recent failures, before any password is hashed.
    "blog.accounts.limits.LoginAddressGate",
    # Refuses logins for a locked-out username and address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Last on purpose: reached only when every backend above refused, so it counts the address's failures.
    "blog.accounts.limits.LoginFailureCounter",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "blog:post_list"
LOGOUT_REDIRECT_URL = "blog:post_list"

# Argon2 for new hashes; PBKDF2 hashes still verify and are upgraded on login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Where sessions live: "database" (the default) or "cache" (a read less per request; with several
# processes the cache is Redis, REDIS_URL, and a Redis restart signs everyone out). Either way,
# logging out, a new password or "Sign out" on the sessions page deletes the session, so a stolen
# cookie stops working at once. "Remember me" chooses between a browser session and SESSION_COOKIE_AGE.
SESSION_ENGINES = {
    "database": "django.contrib.sessions.backends.db",
    "cache": "django.contrib.sessions.backends.cache",
}
BLOG_SESSION_STORE = os.environ.get("BLOG_SESSION_STORE", "database")
if BLOG_SESSION_STORE not in SESSION_ENGINES:
    raise ImproperlyConfigured(f"BLOG_SESSION_STORE must be 'database' or 'cache', not {BLOG_SESSION_STORE!r}")
SESSION_ENGINE = SESSION_ENGINES[BLOG_SESSION_STORE]
SESSION_COOKIE_AGE = 14 * 24 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

if env_flag("DJANGO_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    # Load balancers and process managers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_flag("DJANGO_HSTS_PRELOAD")
    if not SECURE_HSTS_PRELOAD:
        # Preloading is hard to undo, so it is the operator's decision (DJANGO_HSTS_PRELOAD=1).
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Proxies we run (addresses or networks). Only from them are X-Forwarded-For (its last
# entry) and X-Forwarded-Proto believed, by asgi_blog/proxy.py, which rewrites the ASGI
# scope: request.scheme and REMOTE_ADDR are then right, so SECURE_PROXY_SSL_HEADER is unset.
BLOG_TRUSTED_PROXIES = env_list("BLOG_TRUSTED_PROXIES", "")
# Origins besides the site's own that may post forms and open WebSockets (scheme included).
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    # 'self' covers same-origin ws:// and wss:// in current browsers.
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Needs `manage.py collectstatic` before starting with debug off.
    "staticfiles": {"BACKEND": "asgi_blog.static_storage.ModuleAwareStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Password-reset mail: printed to the console in debug, sent over SMTP otherwise.
MAILERS = {
    "default": (
        {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
        if DEBUG
        else {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("DJANGO_EMAIL_HOST", "localhost"),
                "port": int(os.environ.get("DJANGO_EMAIL_PORT", "25")),
            },
        }
    )
}
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "asgi_blog <blog@localhost>")
# DJANGO_EMAIL_FILE_PATH writes each message to a file in that folder instead (the end-to-end tests read them).
if email_file_path := os.environ.get("DJANGO_EMAIL_FILE_PATH"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": email_file_path},
        }
    }

# Email goes out through Django's task framework, never inside a request: tasks are rows in the
# database (django-tasks-db), run by `manage.py db_worker` beside daphne (README, "Email").
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The site's address in links that leave it (emails): no request to take it from there.
BLOG_SITE_URL = os.environ.get("BLOG_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Login brute force (django-axes): after N failures in a row for one username from
# one address, that pair is refused for M minutes, even with the right password.
AXES_FAILURE_LIMIT = int(os.environ.get("BLOG_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("BLOG_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "blog.network.client_address"
# A wrong sign-in code is recorded like a wrong password: the code is kept out of the record (as are
# django-axes' own defaults, the username and address, from the form data it stores).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]

# One budget for comments, edits and deletions of one's own comments, per user (blog/rate_limit.py).
BLOG_COMMENT_RATE_LIMIT = env_rate("BLOG_COMMENT_RATE_LIMIT", "10/60")
# Per client address, where accounts cost nothing: account creations, and failed logins whatever the
# username (on top of the username+address lockout above). Refused before any password is hashed.
BLOG_SIGNUP_RATE_LIMIT = env_rate("BLOG_SIGNUP_RATE_LIMIT", "5/3600")
BLOG_LOGIN_ADDRESS_FAILURE_LIMIT = env_rate("BLOG_LOGIN_ADDRESS_FAILURE_LIMIT", "20/900")
BLOG_POSTS_PER_PAGE = 10
# "Django" and "django" are one tag (django-taggit matches names case-insensitively on the way in).
TAGGIT_CASE_INSENSITIVE = True
# A post page shows this many of the newest comments; older ones are a link away (?before=).
BLOG_COMMENTS_PER_PAGE = int(os.environ.get("BLOG_COMMENTS_PER_PAGE", "50"))
if not 1 <= BLOG_COMMENTS_PER_PAGE <= 200:
    raise ImproperlyConfigured("BLOG_COMMENTS_PER_PAGE must be from 1 to 200 (the most one JSON page holds).")
# A page shows each thread's first replies and a link to the rest, so no page grows with a thread.
BLOG_REPLIES_SHOWN = int(os.environ.get("BLOG_REPLIES_SHOWN", "3"))
if not 0 <= BLOG_REPLIES_SHOWN <= 20:
    raise ImproperlyConfigured("BLOG_REPLIES_SHOWN must be from 0 to 20.")
# How long browsers and shared caches may keep what anonymous readers get (blog/cache_control.py):
# short, because a reload must show what the live socket already showed.
BLOG_PUBLIC_CACHE_SECONDS = int(os.environ.get("BLOG_PUBLIC_CACHE_SECONDS", "5"))
if BLOG_PUBLIC_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("BLOG_PUBLIC_CACHE_SECONDS must be 0 or more.")
# manage.py prune_comment_changes keeps each post's edits and deletions of the last N days (and
# its newest 200 in any case); a reader offline for longer reloads the comments instead of a replay.
BLOG_COMMENT_CHANGES_KEEP_DAYS = float(os.environ.get("BLOG_COMMENT_CHANGES_KEEP_DAYS", "2"))

# WebSocket heartbeat (realtime/heartbeat.py). daphne keeps what a client has not read in
# memory without limit, so the server pings every PING_SECONDS (and after every PING_BYTES
# sent) and closes with 4408 a socket whose oldest ping is unanswered after PONG_TIMEOUT_SECONDS
# or that has more than MAX_UNREAD_BYTES sent since its last answered ping.
BLOG_SOCKET_PING_SECONDS = float(os.environ.get("BLOG_SOCKET_PING_SECONDS", "30"))
BLOG_SOCKET_PING_BYTES = int(os.environ.get("BLOG_SOCKET_PING_BYTES", str(256 * 1024)))
BLOG_SOCKET_PONG_TIMEOUT_SECONDS = float(os.environ.get("BLOG_SOCKET_PONG_TIMEOUT_SECONDS", "60"))
BLOG_SOCKET_MAX_UNREAD_BYTES = int(os.environ.get("BLOG_SOCKET_MAX_UNREAD_BYTES", str(1024 * 1024)))
# Open sockets at once: per logged-in user, and per address for anonymous readers (0 = no cap:
# many real readers share one address behind NAT). Over the cap a socket is closed with 4429.
BLOG_SOCKETS_PER_USER = int(os.environ.get("BLOG_SOCKETS_PER_USER", "20"))
BLOG_ANONYMOUS_SOCKETS_PER_ADDRESS = int(os.environ.get("BLOG_ANONYMOUS_SOCKETS_PER_ADDRESS", "0"))


def env_number(name: str, default: str, kind: type[int] | type[float], rule: str) -> int | float:
    """A number from the environment; anything else stops the server with the variable's name and `rule`."""
    try:
        value = kind(os.environ.get(name, default))
    except ValueError:
        value = None
    if value is None or not value > 0:
        raise ImproperlyConfigured(f"{name} must be {rule}.")
    return value


# WebSocket handshakes a process works on at once (realtime/admission.py); the next ones wait in
# line. daphne rejects a handshake not accepted within 5 s, so an admitted one must finish well
# inside that: 200 at about 600 handshakes a second is 0.3 s of queue.
BLOG_HANDSHAKES_IN_FLIGHT = env_number("BLOG_HANDSHAKES_IN_FLIGHT", "200", int, "a whole number, 1 or more")
# How long a handshake may be expected to wait in that line, at the rate the process answers them;
# past it, the next one is closed at once with 1013 and the seconds to wait. Under the deadline
# below, so that one served last still has time for its own work.
BLOG_HANDSHAKE_LINE_SECONDS = env_number("BLOG_HANDSHAKE_LINE_SECONDS", "3.0", float, "a number of seconds above 0")
# Work for a handshake older than this is skipped: under daphne's 5 s connect timeout, past which
# daphne has answered it with 403 anyway.
BLOG_HANDSHAKE_DEADLINE_SECONDS = env_number(
    "BLOG_HANDSHAKE_DEADLINE_SECONDS", "4.0", float, "a number of seconds above 0"
)

# A notification still unread this long after it was made is emailed (to a verified address, for the
# kinds its recipient chose); the ones made meanwhile go in the same message.
BLOG_NOTIFICATION_EMAIL_DELAY_SECONDS = env_number(
    "BLOG_NOTIFICATION_EMAIL_DELAY_SECONDS", "600", float, "a number of seconds above 0"
)
# /healthz fails when a task has waited longer than this for the worker (the worker is down or behind).
BLOG_TASKS_MAX_WAIT_SECONDS = env_number("BLOG_TASKS_MAX_WAIT_SECONDS", "300", float, "a number of seconds above 0")
# How long a sign-in's record (device, address) is kept after it ended: `manage.py prune_sign_ins`.
BLOG_SIGN_IN_HISTORY_DAYS = env_number("BLOG_SIGN_IN_HISTORY_DAYS", "180", int, "a whole number of days, 1 or more")

# Who must sign in with a second factor (blog/accounts/two_factor/policy.py) before using their powers:
# "staff" (the admin, and all they may do), "publishers" (holders of blog.publish_post), both, or "off".
BLOG_REQUIRE_2FA = parse_required_second_factor(os.environ.get("BLOG_REQUIRE_2FA", "staff,publishers"))
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = "asgi_blog"

# Pre-moderation: "off" publishes every comment at once; "first" holds an author's comments until a
# moderator has approved one of theirs; "all" holds every comment from outside Trusted and the moderators.
BLOG_COMMENT_MODERATION = os.environ.get("BLOG_COMMENT_MODERATION", "off")
if BLOG_COMMENT_MODERATION not in ("off", "first", "all"):
    raise ImproperlyConfigured(
        f"BLOG_COMMENT_MODERATION must be 'off', 'first' or 'all', not {BLOG_COMMENT_MODERATION!r}"
    )
# A comment with this many open flags from distinct readers is hidden until a moderator decides.
BLOG_FLAG_THRESHOLD = env_number("BLOG_FLAG_THRESHOLD", "3", int, "a whole number, 1 or more")
# The checks every new comment passes (blog/moderation/checks.py): each names why a comment looks
# like spam, or nothing; the first reason holds the comment for a moderator.
BLOG_COMMENT_CHECKS = env_list(
    "BLOG_COMMENT_CHECKS",
    "blog.moderation.checks.too_many_links,blog.moderation.checks.repeated_body,blog.moderation.checks.listed_words",
)
# More links than this in one comment is a spam signal.
BLOG_SPAM_MAX_LINKS = os.environ.get("BLOG_SPAM_MAX_LINKS", "3").strip()
if not BLOG_SPAM_MAX_LINKS.isdigit():
    raise ImproperlyConfigured("BLOG_SPAM_MAX_LINKS must be a whole number, 0 or more.")
BLOG_SPAM_MAX_LINKS = int(BLOG_SPAM_MAX_LINKS)
# Words (or phrases) that hold a comment, compared case-insensitively: comma-separated.
BLOG_SPAM_WORDS = env_list("BLOG_SPAM_WORDS", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        # propagate off: daphne configures the root logger too, which would print each line twice.
        "blog": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "realtime": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

from __future__ import annotations

import os

import pytest
from channels.layers import channel_layers
from django.conf import settings
from django.contrib.contenttypes.models import ContentType

from blog.process_cache import cache
from tests.factories import make_post, make_user


def pytest_configure() -> None:
    # A stale Redis database from an earlier run would leak groups and budgets into this one.
    if redis_url := os.environ.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(redis_url).flushdb()


# In-process tests only need static URLs, not the manifest `collectstatic` writes. Set here, at
# import, because conftest files below this one import asgi_blog.asgi, whose start-up check asks
# for that manifest. The end-to-end servers are processes of their own: they collect and use
# the real storage.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


PRODUCTION_PASSWORD_HASHERS = list(settings.PASSWORD_HASHERS)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is slow by design; tests that are about hashing ask for it back."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def production_password_hashers(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_PASSWORD_HASHERS


@pytest.fixture(autouse=True)
def fresh_cache_and_layer():
    """Each test starts with an unspent comment budget and a new channel layer."""
    cache.clear()
    channel_layers.backends.clear()
    # Transactional tests recreate content types under new ids; the cache would keep the old ones.
    ContentType.objects.clear_cache()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def author(db):
    return make_user("author")


@pytest.fixture
def reader(db):
    return make_user("reader")


@pytest.fixture
def editor(db):
    return make_user("editor", editor=True)


@pytest.fixture
def post(author):
    return make_post(author, title="A published post")


@pytest.fixture
def draft(author):
    return make_post(author, published=False, title="A draft")


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client

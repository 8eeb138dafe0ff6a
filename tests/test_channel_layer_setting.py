"""BLOG_CHANNEL_LAYER picks the channels-redis layer; a value it does not know stops the start."""

from __future__ import annotations

import json

from tests.test_settings import python

SHOW_LAYER = "import json; from django.conf import settings; print(json.dumps(settings.CHANNEL_LAYERS['default']))"


def layer(**env: str) -> dict:
    result = python("-c", "import django; django.setup(); " + SHOW_LAYER, DJANGO_DEBUG="1", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_redis_url_uses_the_redis_channel_layer_by_default():
    assert layer(REDIS_URL="redis://127.0.0.1:6379/9")["BACKEND"] == "channels_redis.core.RedisChannelLayer"


def test_redis_pubsub_choice_uses_the_pubsub_layer_with_only_the_options_it_takes():
    chosen = layer(REDIS_URL="redis://127.0.0.1:6379/9", BLOG_CHANNEL_LAYER="redis-pubsub")
    assert chosen["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    # The pub/sub layer silently ignores capacity and expiry; passing them would only mislead.
    assert set(chosen["CONFIG"]) == {"hosts"}


def test_unknown_channel_layer_is_refused_clearly():
    result = python("-c", "import django; django.setup()", DJANGO_DEBUG="1", BLOG_CHANNEL_LAYER="rabbit")
    assert result.returncode != 0
    assert "BLOG_CHANNEL_LAYER must be 'redis' or 'redis-pubsub'" in result.stderr

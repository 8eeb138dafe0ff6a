from __future__ import annotations

from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"

    def ready(self) -> None:
        from blog import events, receivers  # noqa: F401 - receivers connects the signal receivers
        from blog.posts import versions as post_versions

        # Subscribed here, before realtime/apps.py subscribes its broadcaster ("blog" comes first in
        # INSTALLED_APPS): a reader reloading on a live frame must not be served the post as it was.
        events.subscribe(post_versions.forget_changed_post)

"""The bell's unread count on every page of a signed-in user."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from blog.notifications.selectors import unread_count


def notifications(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: read only by a page that shows the bell (the template renders in a thread, so it may query).
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}

"""/ws/notifications/: a signed-in user's notifications on pages without a comment socket.

The post page's comment socket already carries them (its user's group); every
other page of a signed-in user opens this one for the bell. It is the comment
socket's rules without a post: the same session (refused with 403 when there is
none), re-checked when told and at its expiry; when the session ends there is
nothing left to show, so it closes with 4401. It reads nothing from the client
but pongs: the heartbeat bounds what an unread socket may hold here too
(realtime/listening.py). Its hello carries the unread count, read after the socket
joined the user's group: a notification made meanwhile is counted and also comes
live, with its own count after it.
"""

from __future__ import annotations

from blog.models import User
from blog.notifications import selectors as notification_selectors
from realtime.listening import ListeningSocket


class NotificationConsumer(ListeningSocket):
    name = "notifications"
    # The user's notifications, handed on by the hub from the group every process joins.
    frame_event = "user.frame"

    @staticmethod
    def hello(user: User) -> dict[str, object]:
        return {"unread": notification_selectors.unread_count(user)}

"""/ws/moderation/: the moderation queue, kept live for every moderator's open queue page.

Only moderators (blog.moderate_comment, blog/moderation/policy.py; with a second factor
when BLOG_REQUIRE_2FA covers them) get in; anyone
else is refused before accept, which daphne answers with 403, as the bell's socket
refuses anonymous users. The socket joins the hub's "moderation" group before it
reads the queue, so a comment held, flagged or decided meanwhile is not lost: its
frame waits until hello has gone out, then follows it. Every frame is the one
realtime/broadcast.py encoded once for all moderators. The session rules and the
rest are the bell's socket's (realtime/listening.py).
"""

from __future__ import annotations

from blog.accounts.two_factor import policy as two_factor_policy
from blog.models import User
from blog.moderation import policy
from blog.moderation import selectors as moderation_selectors
from realtime import broadcast
from realtime.listening import ListeningSocket


class ModerationConsumer(ListeningSocket):
    name = "moderation"
    frame_event = "moderation.frame"
    groups_joined = (broadcast.MODERATION_GROUP,)
    checks_rights = True
    # The user's notifications ("user.frame") are the bell's: its own socket on this page carries them.

    @staticmethod
    def may_listen(user: User) -> bool:
        # The queue is a moderator's power: a covered moderator's session must have given a second factor.
        return policy.is_moderator(user) and not two_factor_policy.lacks_second_factor(user)

    @staticmethod
    def hello(user: User) -> dict[str, object]:
        return {"items": moderation_selectors.queue_items()}

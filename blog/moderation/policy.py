"""Whether a new comment is published at once or waits for a moderator, and why.

Moderators are never held. A user a moderator marked "always hold" always is.
Otherwise BLOG_COMMENT_MODERATION decides ("off", "first", "all"), with members of
the Trusted group exempt from it, and then the spam checks (blog/moderation/checks.py)
look at every comment, Trusted ones too: a trusted account can still be taken over.
"""

from __future__ import annotations

from django.conf import settings

from blog.accounts.models import User
from blog.comments.models import Comment
from blog.moderation import checks

TRUSTED_GROUP = "Trusted"
MODERATE_PERMISSION = "blog.moderate_comment"

REASON_ALWAYS_HOLD = "a moderator holds every comment of this author"
REASON_ALL = "every comment waits for approval (BLOG_COMMENT_MODERATION=all)"
REASON_FIRST = "the author has no approved comment yet (BLOG_COMMENT_MODERATION=first)"


def is_moderator(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(MODERATE_PERMISSION)


async def ais_moderator(user: User) -> bool:
    return user.is_authenticated and user.is_active and await user.ahas_perm(MODERATE_PERMISSION)


def hold_reason(comment: Comment, author: User) -> str | None:
    """Sync, in the comment's transaction: why this unsaved comment waits for a moderator, or None to publish it.

    Whether the author moderates is asked last, only of a comment that would be held: it reads
    the author's permissions, two queries on a request's fresh user, which most comments never need.
    """
    reason = _reason_to_hold(comment, author)
    if reason is None or is_moderator(author):
        return None
    return reason


def _reason_to_hold(comment: Comment, author: User) -> str | None:
    if author.always_hold:
        return REASON_ALWAYS_HOLD
    mode = settings.BLOG_COMMENT_MODERATION
    if mode != "off" and not author.groups.filter(name=TRUSTED_GROUP).exists():
        if mode == "all":
            return REASON_ALL
        if not Comment.objects.filter(author=author, status=Comment.Status.PUBLISHED).exists():
            return REASON_FIRST
    return checks.suspicion(comment)

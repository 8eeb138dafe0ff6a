"""The only code that deletes an account (README, "Your data": what goes and what stays).

The user row stays, deactivated and emptied of everything personal, under a neutral name
(`deleted-<id>`): comments' placeholders, posts, flags and the moderators' audit trail point
at it, and a row that stays keeps every one of those foreign keys true without rewriting them.
Everything else happens in one transaction, so an account is either deleted in full or not at
all; what readers and sockets hear is published once it commits.
"""

from __future__ import annotations

import logging
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet

from blog.accounts.models import User, UserSession
from blog.accounts.sessions.services import sessions_end_all
from blog.accounts.two_factor.services import second_factor_remove
from blog.comments import likes as comment_likes
from blog.comments import services as comment_services
from blog.moderation import records as moderation_records
from blog.notifications.models import EmailDelivery, Follow, Notification, NotificationPreferences
from blog.posts.models import Post

logger = logging.getLogger(__name__)

PUBLISH_PERMISSION = "blog.publish_post"
# with_perm needs the backend named when several are configured; this one holds the permissions.
PERMISSION_BACKEND = "django.contrib.auth.backends.ModelBackend"
SESSIONS_END_REASON = "account-deleted"

MESSAGE_WRONG_PASSWORD = "That is not your password. Nothing was deleted."  # noqa: S105 - a message
MESSAGE_ALREADY_DELETED = "This account is deleted already."
MESSAGE_NOT_AN_HEIR = "Posts can be handed only to an active Editor (someone who may publish posts) other than you."
MESSAGE_LAST_SUPERUSER = (
    "You are the site's last active superuser: make someone else a superuser in the admin first, "
    "or the site would have no administrator left."
)


def posts_of(user: User) -> QuerySet[Post]:
    """Every post of the user, drafts included."""
    return Post.objects.filter(author=user)


def post_heirs(user: User) -> QuerySet[User]:
    """Who may take the user's posts: the active users who may publish (Editors, superusers), not the user."""
    return User.objects.with_perm(PUBLISH_PERMISSION, backend=PERMISSION_BACKEND).exclude(pk=user.pk)


def deleted_username(user: User) -> str:
    """deleted-<id>: within the username rules, and unique unless someone took the name first."""
    name = f"deleted-{user.pk}"
    if User.objects.filter(username__iexact=name).exclude(pk=user.pk).exists():
        name = f"deleted-{user.pk}-{secrets.token_hex(4)}"
    return name


def account_delete(*, user: User, password: str, posts_to: User | None) -> None:
    """Delete the account for good, its password checked again here.

    posts_to: the Editor who becomes the author of the user's posts, drafts included; None
    deletes them (readers of each are told it is gone). The account is deactivated, so its
    sessions end and its sockets hear session.ended; its comments go as deletions do, live
    (placeholders where others' replies hang from them); then what it held is erased.
    Raises ValidationError (a wrong password, an heir who may not publish) or PermissionDenied
    (deleted already, or the site's last active superuser), and then nothing has changed.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user.pk).first()
        if user is None or not user.is_active:
            raise PermissionDenied(MESSAGE_ALREADY_DELETED)
        if not user.check_password(password):
            raise ValidationError({"password": [MESSAGE_WRONG_PASSWORD]})
        if user.is_superuser:
            _last_superuser_refuse(user)
        if posts_to is not None and not post_heirs(user).filter(pk=posts_to.pk).exists():
            raise ValidationError({"posts_to": [MESSAGE_NOT_AN_HEIR]})

        _anonymize(user)  # deactivated: its sockets hear session.ended once this commits
        sessions_end_all(user=user, reason=SESSIONS_END_REASON)
        second_factor_remove(user=user)  # its secret and recovery codes
        UserSession.objects.filter(user=user).delete()
        _posts_hand_over_or_delete(user, posts_to)
        comment_services.comments_of_author_delete(author=user, actor=user)
        comment_likes.likes_withdraw(user=user)
        moderation_records.author_words_erase(user.pk)
        Notification.objects.filter(recipient=user).delete()
        NotificationPreferences.objects.filter(user=user).delete()
        Follow.objects.filter(user=user).delete()
        _email_deliveries_erase(user)
    logger.info("account deleted id=%s posts_to=%s", user.pk, posts_to.pk if posts_to is not None else None)


def _last_superuser_refuse(user: User) -> None:
    # Every active superuser's row locked, in one order: two of the last two deleting themselves
    # at once cannot both see the other one still there.
    superusers = list(
        User.objects.select_for_update().filter(is_superuser=True, is_active=True).order_by("pk").values_list("pk")
    )
    if len(superusers) <= 1:
        raise PermissionDenied(MESSAGE_LAST_SUPERUSER)


def _anonymize(user: User) -> None:
    """One save: receivers hear the deactivation (blog/receivers.py) and end the sessions on commit."""
    user.username = deleted_username(user)
    user.email = user.verified_email = ""
    user.first_name = user.last_name = ""
    user.last_login = None
    user.is_active = user.is_staff = user.is_superuser = user.always_hold = False
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


def _posts_hand_over_or_delete(user: User, posts_to: User | None) -> None:
    # One post at a time, through save() and delete(): the receivers publish each change, so the
    # cached post (its author's name) is dropped and the readers of a deleted one are told.
    for post in posts_of(user).select_for_update().order_by("pk"):
        if posts_to is not None:
            post.author = posts_to
            post.save(update_fields=["author"])
        else:
            post.delete()


def _email_deliveries_erase(user: User) -> None:
    """The emails of the account go; one a worker is sending now finishes, without its address."""
    deliveries = EmailDelivery.objects.filter(recipient=user)
    deliveries.exclude(status=EmailDelivery.Status.SENDING).delete()
    deliveries.update(address="")

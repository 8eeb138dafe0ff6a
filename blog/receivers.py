"""Changes heard from every path that makes them, not only from the blog's own views.

The admin, the shell, a management command and Django's auth views all save
through the ORM and log out through django.contrib.auth, so their signals are
the one place where each such change is seen. Each receiver publishes an event
once the change is committed (blog/events.py); realtime/ passes it to the open
sockets, which re-check what they may still show.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from taggit.models import Tag

from blog import events
from blog.accounts.sessions import services as session_services
from blog.comments import likes as comment_likes
from blog.models import Post, TaggedPost, User
from blog.posts import services as post_services

# The fields whose change can end a user's sessions.
SESSION_FIELDS = frozenset({"password", "is_active"})


# Signals rather than calls in the services: any path that saves a post must be heard,
# including the admin and the shell, or a reader keeps receiving a post that was withdrawn.
@receiver(post_save, sender=Post, dispatch_uid="blog.post_saved")
def post_saved(sender: type[Post], instance: Post, created: bool, using: str, **kwargs: object) -> None:
    if not created:  # nobody has a socket on a post that did not exist
        events.publish_on_commit(events.PostChanged(post_id=instance.pk, published=instance.is_published), using)


@receiver(post_delete, sender=Post, dispatch_uid="blog.post_deleted")
def post_deleted(sender: type[Post], instance: Post, using: str, **kwargs: object) -> None:
    events.publish_on_commit(events.PostChanged(post_id=instance.pk, published=False, deleted=True), using)


# A post's tags are saved after the post, through taggit's own rows: every path that changes them (the
# post form, the admin, a shell, a tag renamed or deleted in the admin) stores the posts' search
# documents again and drops their cached copies, as a save of the post would.
def post_tags_changed(post_ids: Iterable[int], using: str) -> None:
    for post_id, published in post_services.post_search_documents_refresh(post_ids=post_ids, using=using).items():
        events.publish_on_commit(events.PostChanged(post_id=post_id, published=published), using)


@receiver(m2m_changed, sender=TaggedPost, dispatch_uid="blog.post_tags_set")
def post_tags_set(
    sender: type[TaggedPost], instance: Post | Tag, action: str, reverse: bool, pk_set: set[int] | None, using: str,
    **kwargs: object,
) -> None:  # fmt: skip
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if reverse:  # instance is a tag, pk_set its posts
        post_tags_changed(pk_set or (), using)
    elif action == "post_clear" or pk_set:  # taggit's set() sends an empty post_add when nothing was new
        post_tags_changed([instance.pk], using)


@receiver(post_save, sender=Tag, dispatch_uid="blog.tag_saved")
def tag_saved(sender: type[Tag], instance: Tag, created: bool, using: str, **kwargs: object) -> None:
    if not created:  # renamed, or a new slug: its posts show it and are found by it
        post_tags_changed(tagged_post_ids(instance, using), using)


@receiver(pre_delete, sender=Tag, dispatch_uid="blog.tag_about_to_delete")
def tag_about_to_delete(sender: type[Tag], instance: Tag, using: str, **kwargs: object) -> None:
    instance._tagged_post_ids = tagged_post_ids(instance, using)


@receiver(post_delete, sender=Tag, dispatch_uid="blog.tag_deleted")
def tag_deleted(sender: type[Tag], instance: Tag, using: str, **kwargs: object) -> None:
    # Its TaggedPost rows went first (CASCADE), so the posts' documents are stored without it.
    post_tags_changed(instance.__dict__.pop("_tagged_post_ids", ()), using)


def tagged_post_ids(tag: Tag, using: str) -> list[int]:
    return list(TaggedPost.objects.using(using).filter(tag=tag).values_list("content_object", flat=True))


@receiver(user_logged_in, dispatch_uid="blog.user_logged_in")
def user_logged_in_records_session(sender: type, request: HttpRequest | None, user: User, **kwargs: object) -> None:
    # Every path that logs in (the login views, the admin's, signup, tests' force_login) goes through login().
    if request is not None and hasattr(request, "session"):
        session_services.session_signin_record(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="blog.user_logged_out")
def user_logged_out_ends_sessions(
    sender: type, request: HttpRequest | None, user: User | None, **kwargs: object
) -> None:
    if user is None:
        return
    # logout() flushes the session only after its receivers have run: delete it now, so that
    # a socket re-checking at once (on another process, say) cannot find it still alive.
    if request is not None and hasattr(request, "session"):
        session_services.session_logged_out(session_key=request.session.session_key)
        request.session.delete()
    events.publish_on_commit(events.UserSessionsChanged(user_id=user.pk, reason="logout"))


@receiver(pre_save, sender=User, dispatch_uid="blog.user_about_to_save")
def user_about_to_save(
    sender: type[User], instance: User, raw: bool, using: str, update_fields: frozenset[str] | None, **kwargs: object
) -> None:
    """Note whether this save ends the user's sessions: a new password hash, or deactivation."""
    instance._sessions_end_reason = None
    if raw or instance._state.adding or (update_fields is not None and not SESSION_FIELDS & update_fields):
        return
    # The old row is read here rather than remembered in User.from_db: users are saved rarely, the
    # frequent save (last_login at each login) names its fields and skips the read, and the row
    # is right even when the instance was loaded long ago or built by hand.
    before = sender._base_manager.using(using).filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    if before["is_active"] and not instance.is_active:
        instance._sessions_end_reason = "deactivated"
    elif before["password"] != instance.password:
        instance._sessions_end_reason = "password-changed"


@receiver(post_save, sender=User, dispatch_uid="blog.user_saved")
def user_saved(sender: type[User], instance: User, using: str, **kwargs: object) -> None:
    reason = instance.__dict__.pop("_sessions_end_reason", None)
    if reason is not None:
        events.publish_on_commit(events.UserSessionsChanged(user_id=instance.pk, reason=reason), using)


@receiver(pre_delete, sender=User, dispatch_uid="blog.user_about_to_delete")
def user_about_to_delete(sender: type[User], instance: User, **kwargs: object) -> None:
    # The cascade would take the user's likes without lowering the counts they added to
    # (the admin's delete, the shell); taken back first, as an account's own deletion does.
    comment_likes.likes_withdraw(user=instance)


@receiver(post_delete, sender=User, dispatch_uid="blog.user_deleted")
def user_deleted(sender: type[User], instance: User, using: str, **kwargs: object) -> None:
    events.publish_on_commit(events.UserSessionsChanged(user_id=instance.pk, reason="deleted"), using)

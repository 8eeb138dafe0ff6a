"""Changes heard from every path that makes them, not only from the blog's own views.

The admin, the shell, a management command and Django's auth views all save
through the ORM and log out through django.contrib.auth, so their signals are
the one place where each such change is seen. Each receiver publishes an event
once the change is committed (blog/events.py); realtime/ passes it to the open
sockets, which re-check what they may still show.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from blog import events
from blog.accounts.sessions import services as session_services
from blog.models import Post, User

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


@receiver(post_delete, sender=User, dispatch_uid="blog.user_deleted")
def user_deleted(sender: type[User], instance: User, using: str, **kwargs: object) -> None:
    events.publish_on_commit(events.UserSessionsChanged(user_id=instance.pk, reason="deleted"), using)

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from blog.comments import services as comment_services
from blog.models import (
    Comment,
    CommentRevision,
    EmailDelivery,
    Follow,
    Notification,
    NotificationPreferences,
    Post,
    User,
)
from blog.posts import services as post_services

# Django's own user admin. Deactivating a user or setting a password here ends
# their open sockets' sessions through blog/receivers.py, as from any other path.
admin.site.register(User, UserAdmin)


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "status", "published_at", "created"]
    list_filter = ["status"]
    search_fields = ["title", "body"]
    raw_id_fields = ["author"]
    readonly_fields = ["published_at"]
    actions = ["publish"]

    @admin.action(description="Publish selected posts", permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        for post in queryset:
            post_services.post_publish(post=post, actor=request.user)
        self.message_user(request, f"Published {queryset.count()} post(s).", messages.SUCCESS)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("blog.publish_post")

    def get_readonly_fields(self, request: HttpRequest, obj: Post | None = None) -> list[str]:
        if self.has_publish_permission(request):
            return self.readonly_fields
        return [*self.readonly_fields, "status"]

    def save_model(self, request: HttpRequest, obj: Post, form: object, change: bool) -> None:
        # Publishing goes through the service, which checks the permission and stamps the time.
        publishing = obj.is_published and obj.published_at is None
        if publishing:
            obj.status = Post.Status.DRAFT
        super().save_model(request, obj, form, change)
        if publishing:
            post_services.post_publish(post=obj, actor=request.user)


class CommentRevisionInline(admin.TabularInline):
    """Earlier bodies of an edited comment, for the moderators."""

    model = CommentRevision
    fields = ["replaced", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False

    # Whoever may see a comment may see what it said before.
    def has_view_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return request.user.has_perm("blog.view_comment")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["id", "post", "author", "created", "edited", "body"]
    inlines = [CommentRevisionInline]
    list_select_related = ["post", "author"]
    search_fields = ["body", "author__username"]
    raw_id_fields = ["post", "author"]
    readonly_fields = ["client_id", "created", "edited"]

    # Comments are written by their authors through the site; the admin views and deletes them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False

    # Deletes go through the service, so readers of the post hear of them.
    def delete_model(self, request: HttpRequest, obj: Comment) -> None:
        comment_services.comment_delete(comment=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        for comment in queryset.shown().order_by("-id"):
            # Gone already (another moderator's deletion meanwhile): nothing left to do for it.
            with suppress(PermissionDenied):
                comment_services.comment_delete(comment=comment, actor=request.user)

    def get_deleted_objects(self, objs: Sequence[Comment], request: HttpRequest) -> tuple[list, dict, set, list]:
        """The service leaves a placeholder where replies hang (their RESTRICT key would block a plain
        delete), so replies are neither deleted nor reasons to refuse: the page lists the comments only."""
        to_delete, model_count, perms_needed, _protected = super().get_deleted_objects(objs, request)
        return to_delete, model_count, perms_needed, []


class ShownOnly(admin.ModelAdmin):
    """Rows only a service writes: the admin lists them and changes nothing."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ShownOnly):
    """Where to watch the email: what waits, what failed after its retries and why, and what was left
    `sending` by a worker stopped mid-send (never sent again, as it may have left: see docs/deployment.md).
    The worker is the only writer (blog/notifications/deliveries.py)."""

    list_display = ["id", "recipient", "purpose", "status", "attempts", "created", "send_after", "sent", "last_error"]
    list_filter = ["status", "purpose"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__username", "address"]
    date_hierarchy = "created"


@admin.register(Notification)
class NotificationAdmin(ShownOnly):
    """Who was told of what (blog/notifications/services.py writes them, with their comment)."""

    list_display = ["id", "recipient", "kind", "post", "comment", "actor", "created", "read", "delivery"]
    list_filter = ["kind", ("read", admin.EmptyFieldListFilter)]
    list_select_related = ["recipient", "post", "actor"]
    search_fields = ["recipient__username", "actor__username"]
    date_hierarchy = "created"


@admin.register(Follow)
class FollowAdmin(ShownOnly):
    """Who follows which post (following off: an unfollow, which commenting again does not undo)."""

    list_display = ["user", "post", "following", "changed"]
    list_filter = ["following"]
    list_select_related = ["user", "post"]
    search_fields = ["user__username", "post__title"]


@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "reply", "mention", "comment"]
    list_filter = ["reply", "mention", "comment"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]

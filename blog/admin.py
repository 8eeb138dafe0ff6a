from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import suppress

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from taggit.models import Tag

from blog.accounts.forms import AdminUserAddForm, AdminUserChangeForm
from blog.accounts.two_factor.forms import AdminLoginForm
from blog.comments import services as comment_services
from blog.models import (
    Comment,
    CommentRevision,
    EmailDelivery,
    Flag,
    Follow,
    ModerationAction,
    Notification,
    NotificationPreferences,
    Post,
    PostRevision,
    User,
)
from blog.moderation import services as moderation_services
from blog.moderation.policy import MODERATE_PERMISSION
from blog.posts import services as post_services
from blog.posts.forms import TagsCheckedForm
from blog.posts.tags import validate_tag_names

# Its password alone would log in an account that has two-factor sign-in on.
admin.site.login_form = AdminLoginForm


class ModerationActions(admin.ModelAdmin):
    """Admin actions that call blog/moderation/services.py, offered to moderators (blog.moderate_comment) only.

    The service checks the moderator and each row's state again and keeps the audit record, as it
    does for the moderation pages: the admin adds no rule of its own.
    """

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MODERATE_PERMISSION)

    def moderate_each(
        self, request: HttpRequest, queryset: QuerySet, decide: Callable[[int], object], *, verb: str, noun: str
    ) -> None:
        """Decide each selected row; then one message for what was done and one per reason the service refused."""
        done, refused = 0, defaultdict(list)
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                decide(pk)
            except PermissionDenied as refusal:
                refused[str(refusal)].append(pk)
            else:
                done += 1
        if done:
            self.message_user(request, f"{verb} {done} {noun}(s).", messages.SUCCESS)
        for reason, pks in refused.items():
            self.message_user(request, f"Refused for {noun} {', '.join(map(str, pks))}: {reason}", messages.WARNING)


@admin.register(User)
class BlogUserAdmin(ModerationActions, UserAdmin):
    """Django's user admin, with "always hold" shown but set only through the actions, which keep the record.

    Deactivating a user or setting a password here ends their open sockets' sessions through
    blog/receivers.py, as from any other path. A new name, added or renamed, is checked as at
    signup (blog/accounts/names.py).
    """

    add_form = AdminUserAddForm
    form = AdminUserChangeForm
    fieldsets = [*UserAdmin.fieldsets, ("Moderation", {"fields": ["always_hold"]})]
    readonly_fields = [*UserAdmin.readonly_fields, "always_hold"]
    list_display = [*UserAdmin.list_display, "always_hold"]
    list_filter = [*UserAdmin.list_filter, "always_hold"]
    actions = ["hold_comments", "stop_holding_comments", "ban"]

    @admin.action(description="Always hold comments of selected users", permissions=["moderate"])
    def hold_comments(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        def hold(pk: int) -> None:
            moderation_services.user_hold_set(user_id=pk, actor=request.user, hold=True)

        self.moderate_each(request, queryset, hold, verb="Set to always hold", noun="user")

    @admin.action(description="Stop holding comments of selected users", permissions=["moderate"])
    def stop_holding_comments(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        def stop(pk: int) -> None:
            moderation_services.user_hold_set(user_id=pk, actor=request.user, hold=False)

        self.moderate_each(request, queryset, stop, verb="Stopped holding", noun="user")

    # No form asks for a reason here; the record says where the ban came from.
    @admin.action(description="Ban selected users", permissions=["moderate"])
    def ban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        def ban_user(pk: int) -> None:
            moderation_services.user_ban(user_id=pk, actor=request.user, reason="banned from the admin")

        self.moderate_each(request, queryset, ban_user, verb="Banned", noun="user")


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    # Tags are checked as the post form checks them; saving them refreshes the post's search
    # document and drops its cached copy (blog/receivers.py).
    form = TagsCheckedForm
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
        if change:
            # An edit of a published post keeps what it said, as the site's own edit does.
            before = Post.objects.get(pk=obj.pk)
            post_services.post_revision_keep(before=before, post=obj, editor=request.user)
        super().save_model(request, obj, form, change)
        if publishing:
            post_services.post_publish(post=obj, actor=request.user)


class TagForm(forms.ModelForm):
    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        validate_tag_names([name])
        return name


# In place of taggit's own, whose inline and merge action work on its generic rows, which posts do not use.
admin.site.unregister(Tag)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """A rename, a new slug or a deletion reaches every post of the tag (blog/receivers.py)."""

    form = TagForm
    list_display = ["name", "slug"]
    ordering = ["name"]
    search_fields = ["name"]


@admin.register(PostRevision)
class PostRevisionAdmin(admin.ModelAdmin):
    """What each published post said before each edit, read-only (readers see it on /blog/posts/<id>/changes/).

    A list of its own rather than an inline of the post's form, which would add a formset to every save of a post.
    """

    list_display = ["post", "replaced", "editor"]
    list_select_related = ["post", "editor"]
    search_fields = ["post__title", "title"]
    fields = ["post", "replaced", "editor", "title", "body"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PostRevision | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PostRevision | None = None) -> bool:
        return False

    # Whoever may see posts in the admin may see what they said before.
    def has_view_permission(self, request: HttpRequest, obj: PostRevision | None = None) -> bool:
        return request.user.has_perm("blog.view_post")


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
class CommentAdmin(ModerationActions):
    list_display = ["id", "post", "author", "status", "created", "edited", "body"]
    list_filter = ["status"]
    inlines = [CommentRevisionInline]
    list_select_related = ["post", "author"]
    search_fields = ["body", "author__username"]
    raw_id_fields = ["post", "author"]
    readonly_fields = ["status", "held_reason", "client_id", "created", "edited"]
    actions = ["approve", "reject", "hide"]

    @admin.action(description="Approve selected comments", permissions=["moderate"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        self.decide_each(request, queryset, moderation_services.comment_approve, verb="Approved")

    @admin.action(description="Reject selected comments", permissions=["moderate"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        self.decide_each(request, queryset, moderation_services.comment_reject, verb="Rejected")

    @admin.action(description="Hide selected comments", permissions=["moderate"])
    def hide(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        self.decide_each(request, queryset, moderation_services.comment_hide, verb="Hidden")

    def decide_each(
        self, request: HttpRequest, queryset: QuerySet[Comment], service: Callable[..., object], *, verb: str
    ) -> None:
        def decide(pk: int) -> None:
            service(comment_id=pk, actor=request.user)

        self.moderate_each(request, queryset, decide, verb=verb, noun="comment")

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


class ModerationRecord(ShownOnly):
    """What moderators decide from: shown to anyone who may moderate comments, as well as to holders of the
    model's own view permission."""

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm(MODERATE_PERMISSION) or super().has_view_permission(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


@admin.register(ModerationAction)
class ModerationActionAdmin(ModerationRecord):
    """The audit trail: who held, approved, rejected, hid, restored or removed whose comment, or banned
    or held whom, and why. blog/moderation/records.py writes it; nobody edits it."""

    list_display = ["at", "kind", "actor_shown", "author", "comment_number", "post", "short_reason"]
    # Only the users who acted, or were acted on, are offered as filters (not every account).
    list_filter = ["kind", ("actor", admin.RelatedOnlyFieldListFilter), ("author", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["actor", "author", "post"]
    search_fields = ["reason", "body", "author__username"]
    date_hierarchy = "at"

    @admin.display(description="actor", ordering="actor", empty_value="the blog")
    def actor_shown(self, action: ModerationAction) -> User | None:
        return action.actor

    @admin.display(description="reason")
    def short_reason(self, action: ModerationAction) -> str:
        return Truncator(action.reason).chars(80)


@admin.register(Flag)
class FlagAdmin(ModerationRecord):
    """Readers' reports; a moderator's decision on the comment clears them (blog/moderation/services.py)."""

    list_display = ["comment", "user", "reason", "created", "cleared"]
    list_filter = ["reason", ("cleared", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["user__username", "comment__body"]
    date_hierarchy = "created"

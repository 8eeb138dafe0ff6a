from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from blog import views as blog_views
from blog.accounts import views as account_views
from blog.accounts.data import views as account_data_views
from blog.accounts.sessions import views as session_views
from blog.accounts.two_factor import views as two_factor_views
from blog.health import healthz
from blog.moderation import queue_views as moderation_queue_views
from blog.moderation import views as moderation_views
from blog.notifications import preference_views as notification_preference_views
from blog.notifications import views as notification_views
from blog.search import views as search_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="blog:post_list", permanent=False)),
    path("favicon.ico", blog_views.favicon),
    path("healthz", healthz, name="healthz"),
    path("blog/", include("blog.urls")),
    path("search/", search_views.search, name="search"),
    path("notifications/", notification_views.notification_list, name="notification_list"),
    path("notifications/read/", notification_views.notification_read, name="notification_read"),
    # Our login view first, so it shadows its namesake in django.contrib.auth.urls.
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/signup/", account_views.signup, name="signup"),
    # Two-factor sign-in: the code after the password, and turning it on and off.
    path("accounts/login/code/", two_factor_views.login_code, name="login_code"),
    path("accounts/two-factor/", two_factor_views.two_factor, name="two_factor"),
    path("accounts/two-factor/confirm/", two_factor_views.two_factor_confirm, name="two_factor_confirm"),
    path(
        "accounts/two-factor/recovery-codes/",
        two_factor_views.two_factor_recovery_codes,
        name="two_factor_recovery_codes",
    ),
    path("accounts/two-factor/remove/", two_factor_views.two_factor_remove, name="two_factor_remove"),
    path("accounts/", account_views.account, name="account"),
    path("accounts/email/resend/", account_views.email_verification_resend, name="email_verification_resend"),
    path("accounts/email/verify/<str:token>/", account_views.email_verify, name="email_verify"),
    path("accounts/sessions/", session_views.session_list, name="account_sessions"),
    path("accounts/sessions/end-others/", session_views.sessions_end_others, name="account_sessions_end_others"),
    path("accounts/sessions/<str:session_id>/end/", session_views.session_end, name="account_session_end"),
    path("accounts/data/", account_data_views.account_data, name="account_data"),
    path("accounts/data/export/", account_data_views.account_data_export, name="account_data_export"),
    path("accounts/delete/", account_data_views.account_delete, name="account_delete"),
    path("accounts/deleted/", account_data_views.account_deleted, name="account_deleted"),
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "notifications/preferences/",
        notification_preference_views.notification_preferences,
        name="notification_preferences",
    ),
    path(
        "notifications/unsubscribe/<str:token>/",
        notification_preference_views.notification_unsubscribe,
        name="notification_unsubscribe",
    ),
    path("moderation/", moderation_queue_views.moderation_queue, name="moderation_queue"),
    path("moderation/comments/<int:comment_id>/approve/", moderation_views.comment_approve, name="moderation_approve"),
    path("moderation/comments/<int:comment_id>/reject/", moderation_views.comment_reject, name="moderation_reject"),
    path("moderation/comments/<int:comment_id>/hide/", moderation_views.comment_hide, name="moderation_hide"),
    path("moderation/users/<int:user_id>/ban/", moderation_views.user_ban, name="moderation_ban"),
    path("moderation/users/<int:user_id>/hold/", moderation_views.user_hold, name="moderation_hold"),
    path("admin/", admin.site.urls),
]

from __future__ import annotations

from django.urls import path

from blog.accounts import views as account_views
from blog.comments import feeds as comment_feeds
from blog.comments import views as comment_views
from blog.moderation import views as moderation_views
from blog.notifications import views as notification_views
from blog.posts import feeds as post_feeds
from blog.posts import revision_views
from blog.posts import views as post_views

app_name = "blog"

urlpatterns = [
    path("", post_views.post_list, name="post_list"),
    path("posts/new/", post_views.post_create, name="post_create"),
    path("drafts/", post_views.draft_list, name="draft_list"),
    path("posts/<int:post_id>/publish/", post_views.post_publish, name="post_publish"),
    path("posts/<int:post_id>/", post_views.post_detail, name="post_detail"),
    path("posts/<int:post_id>/edit/", revision_views.post_edit, name="post_edit"),
    path("posts/<int:post_id>/changes/", revision_views.post_changes, name="post_changes"),
    path("posts/<int:post_id>/changes/<int:revision_id>/", revision_views.post_change, name="post_change"),
    path("posts/<int:post_id>/follow/", notification_views.post_follow, name="post_follow"),
    path("posts/<int:post_id>/comments/", comment_views.post_comments, name="post_comments"),
    path("posts/<int:post_id>/comments/preview/", comment_views.comment_preview, name="comment_preview"),
    path("comments/<int:comment_id>/replies/", comment_views.comment_thread, name="comment_thread"),
    path("comments/<int:comment_id>/delete/", comment_views.comment_delete, name="comment_delete"),
    path("comments/<int:comment_id>/edit/", comment_views.comment_edit, name="comment_edit"),
    path("comments/<int:comment_id>/flag/", moderation_views.comment_flag, name="comment_flag"),
    path("comments/<int:comment_id>/like/", comment_views.comment_like, name="comment_like"),
    path("users/<str:username>/", account_views.user_profile, name="user_profile"),
    # Tags, and the Atom feeds (blog/posts/feeds.py, blog/comments/feeds.py).
    path("tags/<str:slug>/", post_views.tag_posts, name="tag_posts"),
    path("feed/", post_feeds.latest_posts_feed, name="post_feed"),
    path("tags/<str:slug>/feed/", post_feeds.tag_feed, name="tag_feed"),
    path("posts/<int:post_id>/comments/feed/", comment_feeds.post_comments_feed, name="post_comments_feed"),
    path("whoami/", account_views.whoami, name="whoami"),
]

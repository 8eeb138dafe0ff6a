from __future__ import annotations

from django.urls import path

from blog import views

app_name = "blog"

urlpatterns = [
    path("", views.post_list, name="post_list"),
    path("posts/new/", views.post_create, name="post_create"),
    path("drafts/", views.draft_list, name="draft_list"),
    path("posts/<int:post_id>/publish/", views.post_publish, name="post_publish"),
    path("posts/<int:post_id>/", views.post_detail, name="post_detail"),
    path("posts/<int:post_id>/comments/", views.post_comments, name="post_comments"),
    path("comments/<int:comment_id>/delete/", views.comment_delete, name="comment_delete"),
    path("comments/<int:comment_id>/edit/", views.comment_edit, name="comment_edit"),
    path("whoami/", views.whoami, name="whoami"),
]

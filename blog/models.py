"""The blog app's models, defined by domain (blog/accounts, blog/posts, blog/comments) and gathered here.

Django finds an app's models in its models module, and the migrations and the
admin name them from here.
"""

from blog.accounts.models import User, UserSession
from blog.comments.models import (
    CLIENT_ID_MAX_LENGTH,
    COMMENT_EDIT_WINDOW,
    COMMENT_MAX_LENGTH,
    RESUME_LIMIT,
    Comment,
    CommentChange,
    CommentLike,
    CommentQuerySet,
    CommentRevision,
    LikesVersion,
    validate_client_id,
    validate_comment_text,
)
from blog.moderation.models import Flag, ModerationAction
from blog.notifications.models import (
    Channel,
    EmailDelivery,
    Follow,
    Notification,
    NotificationKind,
    NotificationPreferences,
    NotificationQuerySet,
)
from blog.posts.models import Post, PostQuerySet, PostRevision, TaggedPost

__all__ = [
    "CLIENT_ID_MAX_LENGTH",
    "COMMENT_EDIT_WINDOW",
    "COMMENT_MAX_LENGTH",
    "RESUME_LIMIT",
    "Channel",
    "Comment",
    "CommentChange",
    "CommentLike",
    "CommentQuerySet",
    "CommentRevision",
    "EmailDelivery",
    "Flag",
    "Follow",
    "LikesVersion",
    "ModerationAction",
    "Notification",
    "NotificationKind",
    "NotificationPreferences",
    "NotificationQuerySet",
    "Post",
    "PostQuerySet",
    "PostRevision",
    "TaggedPost",
    "User",
    "UserSession",
    "validate_client_id",
    "validate_comment_text",
]

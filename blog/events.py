"""What the blog announces after a commit, without knowing who listens.

Services and receivers publish these events; realtime/ subscribes at start-up
and turns them into broadcasts (realtime/apps.py). So the domain never imports
the transport, and a test or another transport can subscribe the same way.
A handler that fails is logged and skipped: the change is already saved, and
telling listeners about it must not turn it into an error for its author.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction

if TYPE_CHECKING:
    from blog.models import Comment, CommentChange

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommentCreated:
    comment: Comment  # its author loaded


@dataclass(frozen=True)
class CommentUpdated:
    comment: Comment
    change: CommentChange


@dataclass(frozen=True)
class CommentDeleted:
    change: CommentChange
    # True when the comment stays as a placeholder for its replies (blog/comments/services.py).
    placeholder: bool = False


@dataclass(frozen=True)
class CommentPublished:
    """A moderator published a comment readers had not seen: a held one approved, or a hidden one restored."""

    comment: Comment  # its author loaded
    change: CommentChange


@dataclass(frozen=True)
class CommentHidden:
    """A comment (and the replies under it) is hidden from readers until a moderator decides."""

    change: CommentChange


@dataclass(frozen=True)
class CommentLikesChanged:
    """A reader liked or unliked a comment: its count now, numbered by the post's likes version."""

    post_id: int
    comment_id: int
    likes: int
    # Grows with every like of the post's comments, in commit order: the newest count of a comment wins.
    version: int


@dataclass(frozen=True)
class ModerationChanged:
    """A comment entered the moderation queue, changed there, or left it."""

    comment_id: int
    # Its entry as moderators see it (blog/moderation/selectors.py); None once it left the queue.
    item: dict[str, object] | None
    # What took it out (a ModerationAction kind), and who.
    action: str | None = None
    actor: str | None = None
    # Its post, whose page shows its held comments to their authors and the moderators.
    post_id: int | None = None


@dataclass(frozen=True)
class PostChanged:
    """A post was saved or deleted: who may read it, or comment on it, may have changed."""

    post_id: int
    # As saved: while a post stays published everyone may still read it, so its readers'
    # sockets need no database check (a popular post has thousands).
    published: bool
    deleted: bool = False


@dataclass(frozen=True)
class PostRevised:
    """An edit changed a published post's title or body; `revision` keeps what it said before."""

    post_id: int
    revision_id: int
    revised: datetime


@dataclass(frozen=True)
class UserSessionsChanged:
    """Some of this user's sessions may have ended (logout, new password, deactivation, deletion)."""

    user_id: int
    reason: str


@dataclass(frozen=True)
class Notice:
    """One user's notifications changed: a new one (notification, as its JSON), or some read or withdrawn."""

    user_id: int
    unread: int
    notification: dict[str, object] | None = None


@dataclass(frozen=True)
class NotificationsChanged:
    """The notices of one change (a comment on a followed post may tell thousands), announced together."""

    notices: tuple[Notice, ...]


type Event = (
    CommentCreated
    | CommentUpdated
    | CommentDeleted
    | CommentPublished
    | CommentHidden
    | CommentLikesChanged
    | ModerationChanged
    | PostChanged
    | PostRevised
    | UserSessionsChanged
    | NotificationsChanged
)
type Handler = Callable[[Event], None]

_handlers: list[Handler] = []


def subscribe(handler: Handler) -> None:
    if handler not in _handlers:
        _handlers.append(handler)


def publish(event: Event) -> None:
    """Hand the event to every handler; call it after the commit (transaction.on_commit)."""
    for handler in tuple(_handlers):
        try:
            handler(event)
        except Exception:
            name = getattr(handler, "__qualname__", repr(handler))
            logger.exception("event handler failed event=%s handler=%s", type(event).__name__, name)


def publish_on_commit(event: Event, using: str | None = None) -> None:
    """Publish the event once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(publish, event), using=using, robust=True)

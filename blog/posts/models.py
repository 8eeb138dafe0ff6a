"""Posts, and the queries that say who may read them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import connections, models, router
from django.db.models import Count, Exists, OuterRef, Q, StringAgg, Subquery, Value
from django.db.models.functions import Coalesce, Concat
from django.urls import reverse
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from blog.accounts.models import User
from blog.comments.models import Comment, CommentChange, LikesVersion
from blog.posts import tags
from blog.posts.markup import render_post_body
from blog.search import documents

# Stored for search (blog/search/documents.py); pages never read them.
SEARCH_DOCUMENT_FIELDS = ("body_text", "search_text", "search_vector")


class PostQuerySet(models.QuerySet["Post"]):
    def published(self) -> PostQuerySet:
        return self.filter(status=Post.Status.PUBLISHED)

    def visible_to(self, user: User, *, can_publish: bool) -> PostQuerySet:
        """Published posts for everyone; drafts for their author, and every draft for publishers.

        `can_publish` is whether `user` holds blog.publish_post: the selectors
        (blog/posts/selectors.py) ask, sync or async as their caller needs.
        """
        if can_publish:
            return self.all()
        if not user.is_authenticated:
            return self.published()
        return self.filter(Q(status=Post.Status.PUBLISHED) | Q(author=user))

    def newest_first(self) -> PostQuerySet:
        return self.order_by("-published_at", "-created")

    def with_comment_versions(self) -> PostQuerySet:
        """Add the newest comment id and newest comment-change id (0 when none), the likes version
        (0 when none), and has_under_review.

        Together they change whenever a comment is added, edited, deleted, liked or unliked, so they
        version whatever is derived from the comments (blog/comments/pages.py). Each is one backward
        lookup on a (post, id) index, or a primary-key lookup, in the same query as the post.
        """
        newest_comment = Comment.objects.filter(post=OuterRef("pk")).order_by("-id").values("id")[:1]
        newest_change = CommentChange.objects.filter(post=OuterRef("pk")).order_by("-id").values("id")[:1]
        likes = LikesVersion.objects.filter(post=OuterRef("pk"))
        return self.annotate(
            newest_comment_id=Coalesce(Subquery(newest_comment), 0),
            newest_change_id=Coalesce(Subquery(newest_change), 0),
            likes_version=Coalesce(Subquery(likes.values("number")[:1]), 0),
            # Whether any comment of the post waits for a moderator: a page asks who may see them only then.
            has_under_review=Exists(Comment.objects.under_review().filter(post=OuterRef("pk"))),
        )

    def with_comment_counts(self) -> PostQuerySet:
        """Add comment_count, counted per post in a subquery (no join that multiplies the rows)."""
        counts = (
            Comment.objects.shown()
            .public()
            .filter(post=OuterRef("pk"))
            .order_by()
            .values("post")
            .annotate(n=Count("*"))
        )
        return self.annotate(comment_count=Coalesce(Subquery(counts.values("n")), 0))

    def with_tags(self) -> PostQuerySet:
        """Add tag_links' source (tags_gathered): each tag's slug and name, gathered in a subquery of
        this same query (blog/posts/tags.py), so a page of posts reads its tags without a query more."""
        gathered = (
            TaggedPost.objects.filter(content_object=OuterRef("pk"))
            .order_by()
            .values("content_object")
            .annotate(
                gathered=StringAgg(
                    Concat("tag__slug", Value(tags.UNIT_SEPARATOR), "tag__name"),
                    delimiter=Value(tags.RECORD_SEPARATOR),
                )
            )
        )
        return self.annotate(tags_gathered=Subquery(gathered.values("gathered")))

    def for_display(self) -> PostQuerySet:
        """As pages show posts (and the post cache keeps them): with their tags, without the search
        document, which no page reads and which would double what a cached post weighs."""
        return self.with_tags().defer(*SEARCH_DOCUMENT_FIELDS)

    def tagged(self, slug: str) -> PostQuerySet:
        return self.filter(Exists(TaggedPost.objects.filter(content_object=OuterRef("pk"), tag__slug=slug)))


class TaggedPost(TaggedItemBase):
    """A post's tag: taggit's through row with a real foreign key to the post (taggit's own is generic)."""

    content_object = models.ForeignKey("blog.Post", on_delete=models.CASCADE, related_name="tagged_items")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content_object", "tag"], name="taggedpost_unique")]


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The post's comment changes up to this id were pruned (manage.py prune_comment_changes),
    # so a reader resuming from an older change is told to resync rather than replayed a gap.
    changes_pruned_through = models.BigIntegerField(default=0, editable=False)
    # The body as sanitised HTML (blog/posts/markup.py), stored by save() so that no page renders it per view.
    body_html = models.TextField(editable=False, blank=True)
    # When an edit last changed the title or body of the published post (its PostRevision keeps what was
    # there before): readers see "Updated" and a link to what changed. Not set by edits to a draft.
    revised = models.DateTimeField(null=True, blank=True, editable=False)
    # The search document (blog/search/documents.py), stored with the post and again when its tags change:
    # the body's plain text (for snippets), the casefolded text SQLite's search matches, PostgreSQL's tsvector.
    body_text = models.TextField(editable=False, blank=True)
    search_text = models.TextField(editable=False, blank=True)
    search_vector = SearchVectorField(null=True, editable=False)

    tags = TaggableManager(
        through=TaggedPost,
        blank=True,
        help_text=f"Separated by commas, for example: django, async. At most {tags.MAX_TAGS_PER_POST}.",
    )

    objects = PostQuerySet.as_manager()

    class Meta:
        permissions = [("publish_post", "Can publish posts")]
        indexes = [models.Index(fields=["status", "-published_at"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: object, **kwargs: object) -> None:
        update_fields = kwargs.get("update_fields")
        derived = set()
        if update_fields is None or "body" in update_fields:
            self.body_html = render_post_body(self.body)
            self.body_text = documents.plain_text(self.body_html)
            derived |= {"body_html", "body_text"}
        if update_fields is None or {"title", "body"} & set(update_fields):
            using = kwargs.get("using") or router.db_for_write(Post, instance=self)
            # A new post has no tags yet: they are added after it is saved, and refresh the document then.
            names = [] if self._state.adding else self.tag_names(using=using)
            vendor = connections[using].vendor
            for field, value in documents.document(
                title=self.title, tag_names=names, body_text=self.body_text, vendor=vendor
            ).items():
                setattr(self, field, value)
            derived |= {"search_text", "search_vector"}
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *derived}
        super().save(*args, **kwargs)
        # The vector was an SQL expression computed by the database: not kept on the instance
        # (a later read of the field would load the stored value).
        self.__dict__.pop("search_vector", None)

    def get_absolute_url(self) -> str:
        return reverse("blog:post_detail", args=[self.pk])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def tag_names(self, *, using: str | None = None) -> list[str]:
        return list(TaggedPost.objects.using(using).filter(content_object=self).values_list("tag__name", flat=True))

    @property
    def tag_links(self) -> list[tags.TagLink]:
        """The post's tags, from with_tags() (the index, the post page, the cached post, the feeds)."""
        return tags.tag_links(getattr(self, "tags_gathered", None))


class PostRevision(models.Model):
    """The title and body a published post had before an edit, kept so that readers can see what changed."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    title = models.CharField(max_length=200)
    body = models.TextField()
    # Who made the edit that replaced this version; kept if their account goes.
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When this version stopped being the current one.
    replaced = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["post", "id"], name="post_revision_order")]

    def __str__(self) -> str:
        return f"Revision of post {self.post_id} replaced at {self.replaced:%Y-%m-%d %H:%M:%S}"

    def get_absolute_url(self) -> str:
        return reverse("blog:post_change", args=[self.post_id, self.pk])

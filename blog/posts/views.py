"""Post pages: the index, a tag's posts, drafts, a post with its newest comments, writing and publishing."""

from __future__ import annotations

from functools import partial

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import AsyncPaginator
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from blog.accounts.two_factor.policy import SecondFactorRequired
from blog.cache_control import shared_when_anonymous
from blog.comments import cursors
from blog.comments import likes as comment_likes
from blog.comments import pages as comment_pages
from blog.comments import selectors as comment_selectors
from blog.comments.forms import CommentForm
from blog.comments.models import Comment
from blog.comments.services import MESSAGE_NO_SUCH_PARENT
from blog.http import bad_request_page
from blog.moderation import selectors as moderation_selectors
from blog.notifications import selectors as notification_selectors
from blog.posts import selectors as post_selectors
from blog.posts import services as post_services
from blog.posts import versions as post_versions
from blog.posts.forms import PostForm
from blog.posts.models import Post, PostQuerySet

# The sort links above a post's comments: (?sort= value, label), the default first.
SORT_LINKS = (
    (cursors.SORT_OLDEST, "Oldest first"),
    (cursors.SORT_NEWEST, "Newest first"),
    (cursors.SORT_LIKED, "Most liked"),
)


def post_url(post_id: int) -> str:
    return reverse("blog:post_detail", args=[post_id])


async def visible_post_or_404(request: HttpRequest, post_id: int) -> Post:
    post = await post_selectors.visible_post(request.user, post_id)
    if post is None:
        raise Http404("No such post.")
    return post


async def visible_post_with_versions_or_404(request: HttpRequest, post_id: int) -> Post:
    post = await post_selectors.visible_post_with_versions(request.user, post_id)
    if post is None:
        raise Http404("No such post.")
    return post


@shared_when_anonymous
@require_GET
async def post_list(request: HttpRequest) -> HttpResponse:
    posts = post_selectors.published_posts().with_comment_counts()
    return TemplateResponse(request, "blog/post_list.html", await posts_page(request, posts))


@shared_when_anonymous
@require_GET
async def tag_posts(request: HttpRequest, slug: str) -> HttpResponse:
    """A tag's published posts, paged as the index is; 404 for a tag only drafts carry, or none."""
    tag = await post_selectors.tag_of_published_posts(slug)
    if tag is None:
        raise Http404("No published post has this tag.")
    posts = post_selectors.published_posts().tagged(slug).with_comment_counts()
    context = {"tag": tag, **await posts_page(request, posts)}
    return TemplateResponse(request, "blog/tag_posts.html", context)


async def posts_page(request: HttpRequest, posts: PostQuerySet) -> dict[str, object]:
    paginator = AsyncPaginator(posts, settings.BLOG_POSTS_PER_PAGE)
    page = await paginator.aget_page(request.GET.get("page"))
    return {
        "page": page,
        "posts": [post async for post in page.object_list],
        # AsyncPage answers these only when awaited, which templates cannot do.
        "num_pages": await paginator.anum_pages(),
    }


@login_required
@require_GET
async def draft_list(request: HttpRequest) -> HttpResponse:
    """Drafts this user may see: their own, or every draft for those who publish."""
    visible = await post_selectors.visible_posts(request.user)
    drafts = visible.filter(status=Post.Status.DRAFT).select_related("author").order_by("-created")
    return TemplateResponse(request, "blog/draft_list.html", {"drafts": [post async for post in drafts]})


@login_required
@permission_required("blog.publish_post", raise_exception=True)
@require_POST
async def post_publish(request: HttpRequest, post_id: int) -> HttpResponse:
    post = await visible_post_or_404(request, post_id)
    await sync_to_async(post_services.post_publish)(post=post, actor=request.user)
    messages.success(request, "Published.")
    return redirect(post)


@shared_when_anonymous
@require_GET
async def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    """The post and a page of its comments: the first in ?sort= order (oldest first: the newest threads),
    or those after the ?before= cursor (not live).

    ?reply_to=<id> sets the form to answer that comment (the Reply link without the script).
    """
    try:
        sort = cursors.sort_param(request.GET)
        before = cursors.before_param(request.GET, sort)
        reply_to = cursors.reply_to_param(request.GET)
    except cursors.BadCursor as error:
        return bad_request_page(request, str(error), back_url=post_url(post_id))
    page_size = settings.BLOG_COMMENTS_PER_PAGE
    found, comment_page = await post_versions.cached_post_and(
        post_id, partial(comment_pages.cached_html_page, before=before, limit=page_size, sort=sort)
    )
    post = await readable_post_or_404(request, post_id, found)
    form = CommentForm(initial={"parent": reply_to or ""})
    return await render_post_page(request, post, form, before=before, comment_page=comment_page, sort=sort)


async def readable_post_or_404(request: HttpRequest, post_id: int, found: post_versions.Lookup) -> Post:
    """For reads: the cached published post, else the database's (then cached); with its comment versions."""
    post = await post_versions.visible_post_with_versions(request.user, post_id, found)
    if post is None:
        raise Http404("No such post.")
    return post


async def render_post_page(
    request: HttpRequest,
    post: Post,
    form: CommentForm,
    *,
    before: cursors.Before = None,
    status: int = 200,
    comment_page: comment_pages.RenderedPage | None = None,
    preview: str | None = None,
    sort: str = cursors.SORT_OLDEST,
) -> HttpResponse:
    """`post` must carry its comment versions; `comment_page` is its page of comments when already read."""
    page_size = settings.BLOG_COMMENTS_PER_PAGE
    if comment_page is None:
        comment_page = await comment_pages.html_page(post, before=before, limit=page_size, sort=sort)
    reader = await comment_reader(request, comment_page)
    can_moderate = reader is not None and reader.can_moderate
    replying_to, reply_gone = await comment_answered_by(post, form)
    context = {
        "post": post,
        "comment_page": comment_page,
        "comments_html": comment_pages.compose(comment_page, reader),
        "page_size": page_size,
        # An older page is a plain page: the script opens no socket on it and it has no form.
        "live": before is None,
        "sort": sort,
        "sorts": SORT_LINKS,
        "form": form,
        "preview": preview,  # the form's body rendered (sanitised HTML), when it asked for a preview
        "replying_to": replying_to,
        # The form was to answer a comment that is not there: say so rather than post a top-level comment.
        "reply_gone": MESSAGE_NO_SUCH_PARENT if reply_gone else None,
        "can_comment": request.user.is_authenticated and post.is_published,
        "can_publish": not post.is_published and await request.user.ahas_perm("blog.publish_post"),
        # The permissions are read already (comment_reader): asking again costs no query.
        "can_edit": request.user.is_authenticated
        and (
            await request.user.ahas_perm("blog.change_post")
            or (post.author_id == request.user.pk and not post.is_published)
        ),
        "can_moderate": can_moderate,
        # Read while the page renders, in the thread rendering it: an await here would cost a hop to a
        # thread of its own, many times the query (the bell's count is read the same way).
        "following": SimpleLazyObject(partial(notification_selectors.follows, request.user, post)),
        # Never part of the cached comments, which every reader shares: read per request, the same way,
        # and only when the post has any (read with the post, cached with it): an anonymous reader, or a
        # post with nothing held, costs no query for them.
        "held": SimpleLazyObject(partial(moderation_selectors.held_for_reader, request.user, post))
        if request.user.is_authenticated and post.has_under_review
        else None,
    }
    return TemplateResponse(request, "blog/post_detail.html", context, status=status)


async def comment_reader(request: HttpRequest, page: comment_pages.RenderedPage) -> comment_pages.Reader | None:
    """Whom the page's comments are composed for (None: anonymous), whether they may delete others',
    and which of them they like (read only when one of them has a like)."""
    if not request.user.is_authenticated:
        return None
    can_moderate = await request.user.ahas_perm("blog.delete_comment")
    liked = await comment_likes.liked_by(request.user, ((piece.stamp.id, piece.stamp.likes) for piece in page.comments))
    return comment_pages.Reader(
        user=request.user, can_moderate=can_moderate, csrf_token=get_token(request), now=timezone.now(), liked=liked
    )


async def comment_answered_by(post: Post, form: CommentForm) -> tuple[Comment | None, bool]:
    """The comment the form answers (its parent, as sent or as ?reply_to= set it), and whether
    it was asked for but is not there (deleted since, or never on this post)."""
    parent = form.parent_id() if form.is_bound else form.initial.get("parent")
    if not isinstance(parent, int):
        return None, bool(parent)
    comment = await comment_selectors.comment_to_answer(post, parent)
    return comment, comment is None


@login_required
@require_http_methods(["GET", "POST"])
async def post_create(request: HttpRequest) -> HttpResponse:
    form = PostForm(request.POST or None, initial={"status": Post.Status.DRAFT})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            post = await sync_to_async(post_services.post_create)(author=request.user, **form.cleaned_data)
        except SecondFactorRequired as refusal:
            # Said beside the choice, with the text kept: save it as a draft, or give a code first.
            form.add_error("status", str(refusal))
            status = 403
        else:
            if post.status != form.cleaned_data["status"]:
                messages.info(request, "Saved as a draft: an Editor will publish it.")
            return redirect(post)
    can_publish = await request.user.ahas_perm("blog.publish_post")
    context = {"form": form, "can_publish": can_publish}
    return TemplateResponse(request, "blog/post_form.html", context, status=status)

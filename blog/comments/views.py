"""Comments over HTTP: the JSON pages, and posting, editing, deleting and liking for forms and JSON clients."""

from __future__ import annotations

from functools import partial
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from blog.cache_control import shared_when_anonymous
from blog.comments import cursors
from blog.comments import likes as comment_likes
from blog.comments import pages as comment_pages
from blog.comments import selectors as comment_selectors
from blog.comments import services as comment_services
from blog.comments.forms import CommentForm
from blog.comments.models import Comment
from blog.failures import SERVICE_REFUSALS, Failure, failure_from
from blog.http import bad_request_page, login_required_or_401, refused, wants_json, with_retry_after
from blog.moderation.policy import ais_moderator
from blog.posts import selectors as post_selectors
from blog.posts import versions as post_versions
from blog.posts.models import Post
from blog.posts.views import (
    comment_reader,
    post_url,
    readable_post_or_404,
    render_post_page,
    visible_post_with_versions_or_404,
)

MESSAGE_AWAITING_APPROVAL = "Your comment is awaiting approval: readers will see it once a moderator approves it."


@require_http_methods(["GET", "POST"])
async def post_comments(request: HttpRequest, post_id: int) -> HttpResponse:
    """GET: the comment list as JSON. POST: add a comment (a form or a JSON client)."""
    if request.method == "POST":
        return await comment_create(request, post_id)
    return await comment_list(request, post_id)


@shared_when_anonymous
async def comment_list(request: HttpRequest, post_id: int) -> HttpResponse:
    """A page of comments as JSON: the newest, those before ?before=, or those after ?after=."""
    try:
        cursor = cursors.json_cursor(request.GET, page_size=settings.BLOG_COMMENTS_PER_PAGE)
    except cursors.BadCursor as error:
        return JsonResponse(Failure("invalid", str(error)).as_json(), status=400)
    page = {
        "before": cursor.before,
        "after": cursor.after,
        "limit": cursor.limit,
        "thread": cursor.thread,
        "sort": cursor.sort,
    }
    found, body = await post_versions.cached_post_and(post_id, partial(comment_pages.cached_json_page, **page))
    if body is None:
        post = await readable_post_or_404(request, post_id, found)
        body = await comment_pages.json_page(post, **page)
    return HttpResponse(body, content_type="application/json")


@shared_when_anonymous
@require_GET
async def comment_thread(request: HttpRequest, comment_id: int) -> HttpResponse:
    """A thread's replies a page at a time (?after=): where "Show more replies" leads without the script."""
    try:
        after = cursors.after_param(request.GET) or 0
    except cursors.BadCursor as error:
        return bad_request_page(request, str(error), back_url=reverse("blog:comment_thread", args=[comment_id]))
    top = await comment_selectors.thread_top(comment_id)
    post = None if top is None else await post_selectors.visible_post_with_versions(request.user, top.post_id)
    if post is None:
        raise Http404("No such comment.")
    page_size = settings.BLOG_COMMENTS_PER_PAGE
    page = await comment_pages.thread_page(post, top, after=after, limit=page_size)
    context = {
        "post": post,
        "top": top,
        "comments_html": comment_pages.compose(page, await comment_reader(request, page)),
        "next_after": page.comments[-1].stamp.id if len(page.comments) > page_size else None,
    }
    return TemplateResponse(request, "blog/comment_thread.html", context)


# A browser that was logged out while the page was open comes back to the post, not to this endpoint.
@login_required_or_401(come_back_to=post_url)
async def comment_create(request: HttpRequest, post_id: int) -> HttpResponse:
    post = await visible_post_with_versions_or_404(request, post_id)
    form = CommentForm(request.POST)
    form.is_valid()  # only parses; the service validates
    try:
        posted = await sync_to_async(comment_services.comment_post)(
            post=post,
            author=request.user,
            body=form.cleaned_data.get("body", ""),
            client_id=form.cleaned_data.get("client_id") or None,
            parent_id=form.parent_id(),
        )
    except SERVICE_REFUSALS as error:
        return await comment_refused(request, post, form, failure_from(error), error)
    if wants_json(request):
        return JsonResponse({"comment": posted.comment.as_json()}, status=201 if posted.created else 200)
    if not posted.comment.is_public:
        messages.info(request, MESSAGE_AWAITING_APPROVAL)
    return redirect(posted.comment.get_absolute_url())


@login_required_or_401(come_back_to=post_url)
@require_POST
async def comment_preview(request: HttpRequest, post_id: int) -> HttpResponse:
    """The comment form's Preview: {"html": …} for the script, the post page showing it for a plain form.

    The same rules as posting (comment_services.comment_preview); nothing is saved.
    """
    post = await visible_post_with_versions_or_404(request, post_id)
    form = CommentForm(request.POST)
    form.is_valid()  # only parses; the service validates
    try:
        html = await sync_to_async(comment_services.comment_preview)(
            post=post, author=request.user, body=form.cleaned_data.get("body", "")
        )
    except SERVICE_REFUSALS as error:
        return await comment_refused(request, post, form, failure_from(error), error)
    if wants_json(request):
        return JsonResponse({"html": html})
    return await render_post_page(request, post, form, preview=html)


async def comment_refused(
    request: HttpRequest, post: Post, form: CommentForm, failure: Failure, error: Exception
) -> HttpResponse:
    if wants_json(request):
        response = JsonResponse(failure.as_json(), status=failure.http_status)
    else:
        form.add_error(None, error if isinstance(error, ValidationError) else failure.message)
        response = await render_post_page(request, post, form, status=failure.http_status)
    return with_retry_after(response, failure)


async def comment_of_visible_post_or_404(request: HttpRequest, comment_id: int) -> Comment:
    """The comment, if this user may see its post and know of it (held ones: their author and the moderators)."""
    comment = await Comment.objects.shown().select_related("author", "post").filter(pk=comment_id).afirst()
    if comment is None:
        raise Http404("No such comment.")
    if not (comment.is_public or comment.author_id == request.user.pk or await ais_moderator(request.user)):
        raise Http404("No such comment.")
    if not await post_selectors.post_is_visible(request.user, comment.post_id):
        raise Http404("No such comment.")
    return comment


@login_required_or_401
@require_POST
async def comment_delete(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = await comment_of_visible_post_or_404(request, comment_id)
    try:
        placeholder = await sync_to_async(comment_services.comment_delete)(comment=comment, actor=request.user)
    except SERVICE_REFUSALS as error:
        return refused(request, failure_from(error))
    if wants_json(request):
        return JsonResponse({"deleted": comment_id, "placeholder": placeholder})
    messages.success(request, "Comment deleted.")
    return redirect(comment.post)


@login_required_or_401
@require_http_methods(["GET", "POST"])
async def comment_edit(request: HttpRequest, comment_id: int) -> HttpResponse:
    """GET: a page to edit one's comment (for browsers without the script). POST: save it."""
    comment = await comment_of_visible_post_or_404(request, comment_id)
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST":
        form.is_valid()  # only parses; the service validates
        try:
            await sync_to_async(comment_services.comment_edit)(
                comment=comment, actor=request.user, body=form.cleaned_data.get("body", "")
            )
        except ValidationError as error:
            if wants_json(request):
                return refused(request, failure_from(error))
            form.add_error(None, error)
        except SERVICE_REFUSALS as error:
            return refused(request, failure_from(error))
        else:
            if wants_json(request):
                return JsonResponse({"comment": comment.as_json()})
            return redirect(comment.get_absolute_url())
    elif comment.author_id != request.user.pk:
        return refused(request, Failure("forbidden", comment_services.MESSAGE_EDIT_NOT_YOURS))
    status = 400 if form.errors else 200
    return TemplateResponse(request, "blog/comment_edit.html", {"comment": comment, "form": form}, status=status)


MESSAGE_LIKED_NOT_0_OR_1 = "liked must be 1 (like) or 0 (unlike)."


@login_required_or_401
@require_POST
async def comment_like(request: HttpRequest, comment_id: int) -> HttpResponse:
    """Like (`liked=1`, the default) or unlike (`liked=0`) someone else's comment.

    A plain form comes back to the page it was sent from, at the comment; JSON clients get its count.
    """
    comment = await Comment.objects.public().shown().select_related("post").filter(pk=comment_id).afirst()
    if comment is None or not await post_selectors.post_is_visible(request.user, comment.post_id):
        raise Http404("No such comment.")
    liked = {"1": True, "0": False}.get(request.POST.get("liked", "1"))
    if liked is None:
        errors = {"liked": [MESSAGE_LIKED_NOT_0_OR_1]}
        return refused(request, Failure("invalid", MESSAGE_LIKED_NOT_0_OR_1, {"errors": errors}))
    try:
        done = await sync_to_async(comment_likes.comment_like)(comment=comment, actor=request.user, liked=liked)
    except SERVICE_REFUSALS as error:
        return refused(request, failure_from(error))
    if wants_json(request):
        return JsonResponse({"id": done.comment_id, "liked": done.liked, "likes": done.likes})
    return redirect(back_to_comment(request, comment))


def back_to_comment(request: HttpRequest, comment: Comment) -> str:
    """The page the form was sent from (the post's page in any sort and cursor, or the thread's), at the
    comment; else the comment's own page. Only this site's pages of that post: never somewhere a
    forged Referer names."""
    referer = request.headers.get("Referer", "")
    anchor = f"#comment-{comment.pk}"
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        url = urlsplit(referer)
        pages = {post_url(comment.post_id), reverse("blog:comment_thread", args=[comment.thread_id or comment.pk])}
        if url.path in pages:
            return f"{url.path}?{url.query}{anchor}" if url.query else f"{url.path}{anchor}"
    return comment.permalink()

"""Small async views: parse, call a service or a QuerySet method, render or redirect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial, wraps

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import alogin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import AsyncPaginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from blog import address_limits, comment_pages, cursors, post_versions, selectors, services
from blog.cache_control import shared_when_anonymous
from blog.failures import SERVICE_REFUSALS, Failure, failure_from
from blog.forms import CommentForm, LoginForm, PostForm, SignupForm
from blog.models import Comment, Post

MESSAGE_LOGIN_REQUIRED = services.MESSAGE_LOGIN_REQUIRED

View = Callable[..., Awaitable[HttpResponse]]


def wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


async def visible_post_or_404(request: HttpRequest, post_id: int) -> Post:
    visible = await Post.objects.avisible_to(request.user)
    try:
        return await visible.select_related("author").aget(pk=post_id)
    except Post.DoesNotExist:
        raise Http404("No such post.") from None


async def visible_post_with_versions_or_404(request: HttpRequest, post_id: int) -> Post:
    post = await selectors.visible_post_with_versions(request.user, post_id)
    if post is None:
        raise Http404("No such post.")
    return post


@shared_when_anonymous
@require_GET
async def post_list(request: HttpRequest) -> HttpResponse:
    posts = Post.objects.published().newest_first().select_related("author").with_comment_counts()
    paginator = AsyncPaginator(posts, settings.BLOG_POSTS_PER_PAGE)
    page = await paginator.aget_page(request.GET.get("page"))
    context = {
        "page": page,
        "posts": [post async for post in page.object_list],
        # AsyncPage answers these only when awaited, which templates cannot do.
        "num_pages": await paginator.anum_pages(),
    }
    return TemplateResponse(request, "blog/post_list.html", context)


@login_required
@require_GET
async def draft_list(request: HttpRequest) -> HttpResponse:
    """Drafts this user may see: their own, or every draft for those who publish."""
    visible = await Post.objects.avisible_to(request.user)
    drafts = visible.filter(status=Post.Status.DRAFT).select_related("author").order_by("-created")
    return TemplateResponse(request, "blog/draft_list.html", {"drafts": [post async for post in drafts]})


@login_required
@permission_required("blog.publish_post", raise_exception=True)
@require_POST
async def post_publish(request: HttpRequest, post_id: int) -> HttpResponse:
    post = await visible_post_or_404(request, post_id)
    await sync_to_async(services.post_publish)(post=post, actor=request.user)
    messages.success(request, "Published.")
    return redirect(post)


@shared_when_anonymous
@require_GET
async def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    """The post and a page of its comments: the newest, or those before ?before= (not live)."""
    try:
        before = cursors.before_param(request.GET)
    except cursors.BadCursor as error:
        return bad_request_page(request, str(error), back_url=post_url(post_id))
    page_size = settings.BLOG_COMMENTS_PER_PAGE
    found, comment_page = await post_versions.cached_post_and(
        post_id, partial(comment_pages.cached_html_page, before=before, limit=page_size)
    )
    post = await readable_post_or_404(request, post_id, found)
    return await render_post_page(request, post, CommentForm(), before=before, comment_page=comment_page)


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
    before: int | None = None,
    status: int = 200,
    comment_page: comment_pages.RenderedPage | None = None,
) -> HttpResponse:
    """`post` must carry its comment versions; `comment_page` is its page of comments when already read."""
    page_size = settings.BLOG_COMMENTS_PER_PAGE
    if comment_page is None:
        comment_page = await comment_pages.html_page(post, before=before, limit=page_size)
    can_moderate = await request.user.ahas_perm("blog.delete_comment")
    reader = None
    if request.user.is_authenticated:
        reader = comment_pages.Reader(
            user=request.user, can_moderate=can_moderate, csrf_token=get_token(request), now=timezone.now()
        )
    context = {
        "post": post,
        "comment_page": comment_page,
        "comments_html": comment_pages.compose(comment_page, reader),
        "page_size": page_size,
        # An older page is a plain page: the script opens no socket on it and it has no form.
        "live": before is None,
        "form": form,
        "can_comment": request.user.is_authenticated and post.is_published,
        "can_publish": not post.is_published and await request.user.ahas_perm("blog.publish_post"),
        "can_moderate": can_moderate,
    }
    return TemplateResponse(request, "blog/post_detail.html", context, status=status)


def bad_request_page(request: HttpRequest, message: str, *, back_url: str) -> HttpResponse:
    """400 for a browser that asked for a page with a malformed address, saying what was wrong."""
    context = {"message": message, "back_url": back_url}
    return TemplateResponse(request, "blog/bad_request.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
async def post_create(request: HttpRequest) -> HttpResponse:
    form = PostForm(request.POST or None, initial={"status": Post.Status.DRAFT})
    if request.method == "POST" and form.is_valid():
        post = await sync_to_async(services.post_create)(author=request.user, **form.cleaned_data)
        if post.status != form.cleaned_data["status"]:
            messages.info(request, "Saved as a draft: an Editor will publish it.")
        return redirect(post)
    can_publish = await request.user.ahas_perm("blog.publish_post")
    return TemplateResponse(request, "blog/post_form.html", {"form": form, "can_publish": can_publish})


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
    found, body = await post_versions.cached_post_and(
        post_id, partial(comment_pages.cached_json_page, before=cursor.before, after=cursor.after, limit=cursor.limit)
    )
    if body is None:
        post = await readable_post_or_404(request, post_id, found)
        body = await comment_pages.json_page(post, before=cursor.before, after=cursor.after, limit=cursor.limit)
    return HttpResponse(body, content_type="application/json")


def login_required_or_401(view: View | None = None, *, come_back_to: Callable[..., str] | None = None):
    """@login_required for browsers; JSON clients get 401 and a login_required code instead.

    After logging in, browsers come back to `come_back_to(<the view's URL arguments>)`, or to this URL.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        async def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if request.user.is_authenticated:
                return await view(request, *args, **kwargs)
            if wants_json(request):
                return JsonResponse(Failure("login_required", MESSAGE_LOGIN_REQUIRED).as_json(), status=401)
            return redirect_to_login(come_back_to(*args, **kwargs) if come_back_to else request.get_full_path())

        return wrapper

    return decorate(view) if view is not None else decorate


def post_url(post_id: int) -> str:
    return reverse("blog:post_detail", args=[post_id])


# A browser that was logged out while the page was open comes back to the post, not to this endpoint.
@login_required_or_401(come_back_to=post_url)
async def comment_create(request: HttpRequest, post_id: int) -> HttpResponse:
    post = await visible_post_with_versions_or_404(request, post_id)
    form = CommentForm(request.POST)
    form.is_valid()  # only parses; the service validates
    try:
        posted = await sync_to_async(services.comment_post)(
            post=post,
            author=request.user,
            body=form.cleaned_data.get("body", ""),
            client_id=form.cleaned_data.get("client_id") or None,
        )
    except SERVICE_REFUSALS as error:
        return await comment_refused(request, post, form, failure_from(error), error)
    if wants_json(request):
        return JsonResponse({"comment": posted.comment.as_json()}, status=201 if posted.created else 200)
    return redirect(posted.comment.get_absolute_url())


async def comment_refused(
    request: HttpRequest, post: Post, form: CommentForm, failure: Failure, error: Exception
) -> HttpResponse:
    if wants_json(request):
        response = JsonResponse(failure.as_json(), status=failure.http_status)
    else:
        form.add_error(None, error if isinstance(error, ValidationError) else failure.message)
        response = await render_post_page(request, post, form, status=failure.http_status)
    return with_retry_after(response, failure)


def with_retry_after(response: HttpResponse, failure: Failure) -> HttpResponse:
    """A 429 says when to come back, for clients that retry on their own."""
    if failure.code == "rate_limited":
        response["Retry-After"] = str(failure.extra["retry_after"])
    return response


async def comment_of_visible_post_or_404(request: HttpRequest, comment_id: int) -> Comment:
    comment = await Comment.objects.select_related("author", "post").filter(pk=comment_id).afirst()
    if comment is None:
        raise Http404("No such comment.")
    visible = await Post.objects.avisible_to(request.user)
    if not await visible.filter(pk=comment.post_id).aexists():
        raise Http404("No such comment.")
    return comment


@login_required_or_401
@require_POST
async def comment_delete(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = await comment_of_visible_post_or_404(request, comment_id)
    try:
        await sync_to_async(services.comment_delete)(comment=comment, actor=request.user)
    except SERVICE_REFUSALS as error:
        return refused(request, failure_from(error))
    if wants_json(request):
        return JsonResponse({"deleted": comment_id})
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
            await sync_to_async(services.comment_edit)(
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
        return refused(request, Failure("forbidden", services.MESSAGE_EDIT_NOT_YOURS))
    status = 400 if form.errors else 200
    return TemplateResponse(request, "blog/comment_edit.html", {"comment": comment, "form": form}, status=status)


def refused(request: HttpRequest, failure: Failure) -> HttpResponse:
    """A refusal outside the post page: JSON for JSON clients, a short page for browsers."""
    if wants_json(request):
        response = JsonResponse(failure.as_json(), status=failure.http_status)
    else:
        response = TemplateResponse(request, "blog/refused.html", {"failure": failure}, status=failure.http_status)
    return with_retry_after(response, failure)


@require_GET
async def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says."""
    # Resolved per request: the hashed name exists only once collectstatic has run.
    return redirect(static("blog/favicon.svg"))


@require_GET
async def whoami(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return HttpResponse(f"You are logged in as {request.user.get_username()}.", content_type="text/plain")
    return HttpResponse("You are browsing anonymously.", content_type="text/plain")


@require_http_methods(["GET", "POST"])
async def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        # Held before the form is read, so concurrent signups cannot all see the last free one.
        try:
            signup_slot = await address_limits.asignup_slot_take(request)
        except address_limits.AddressLimited as limited:
            return address_limited_page(request, "registration/signup_limited.html", limited.retry_after)
        if await sync_to_async(form.is_valid)():
            user = await sync_to_async(services.user_signup)(
                username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
            )
            await alogin(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.get_username()}! You are logged in.")
            return redirect(settings.LOGIN_REDIRECT_URL)
        await address_limits.asignup_slot_release(signup_slot)  # no account was created
    return TemplateResponse(request, "registration/signup.html", {"form": form})


def address_limited_page(request: HttpRequest, template: str, retry_after: int) -> HttpResponse:
    """429 for an address over a limit, saying when it may try again."""
    context = {"retry_at": timezone.now() + timedelta(seconds=retry_after)}
    response = TemplateResponse(request, template, context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class LoginView(auth_views.LoginView):
    """Django's login view plus "remember me": a browser session unless it is ticked."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        response = super().form_valid(form)
        # 0 ends the session when the browser closes; None uses SESSION_COOKIE_AGE.
        self.request.session.set_expiry(None if form.cleaned_data["remember_me"] else 0)
        return response

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # Refused before authenticate(): no password is hashed, and django-axes does not
        # count the refusal against the username (a user waiting out the pause stays unlocked).
        if retry_after := address_limits.login_failures_retry_after(request):
            return self.address_limited(retry_after)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        # The address reached its limit while this login was on its way: LoginAddressGate refused it.
        if retry_after := getattr(self.request, address_limits.REFUSED_ATTRIBUTE, None):
            return self.address_limited(retry_after)
        return super().form_invalid(form)

    def address_limited(self, retry_after: int) -> HttpResponse:
        return address_limited_page(self.request, "registration/login_address_limited.html", retry_after)

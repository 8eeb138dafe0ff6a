"""Signing up and logging in, each behind its per-address limit, who am I, and the account page with its address."""

from __future__ import annotations

from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import alogin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import AsyncPaginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from blog.accounts import limits as address_limits
from blog.accounts import selectors as account_selectors
from blog.accounts import services as account_services
from blog.accounts.forms import EmailAddressForm, LoginForm, SignupForm
from blog.accounts.two_factor import selectors as two_factor_selectors
from blog.accounts.two_factor import sign_in as two_factor_sign_in
from blog.cache_control import shared_when_anonymous

MESSAGE_ADDRESS_REMOVED = "Your email address is removed."
MESSAGE_ADDRESS_UNCHANGED = "That is your address already."
MESSAGE_LINK_ON_ITS_WAY = "A link to verify {address} is on its way. Open it within three days."
MESSAGE_ADDRESS_VERIFIED = "{address} is verified."

# Comments on a profile page: enough to show what someone says, without a page per comment.
PROFILE_COMMENTS_PER_PAGE = 20


@shared_when_anonymous
@require_GET
async def user_profile(request: HttpRequest, username: str) -> HttpResponse:
    """A person's public page: their published posts and their comments on published posts, each paginated."""
    profile = await account_selectors.public_user(username)
    if profile is None:
        raise Http404("No such user.")
    posts = AsyncPaginator(account_selectors.published_posts_by(profile), settings.BLOG_POSTS_PER_PAGE)
    comments = AsyncPaginator(account_selectors.published_comments_by(profile), PROFILE_COMMENTS_PER_PAGE)
    posts_page = await posts.aget_page(request.GET.get("posts"))
    comments_page = await comments.aget_page(request.GET.get("comments"))
    context = {
        "profile": profile,
        "posts": [post async for post in posts_page.object_list],
        "posts_page": posts_page,
        "posts_pages": await posts.anum_pages(),
        "comments": [comment async for comment in comments_page.object_list],
        "comments_page": comments_page,
        "comments_pages": await comments.anum_pages(),
    }
    return TemplateResponse(request, "blog/user_profile.html", context)


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
            user = await sync_to_async(account_services.user_signup)(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                email=form.cleaned_data["email"],
            )
            await alogin(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.get_username()}! You are logged in.")
            if user.email:
                messages.info(request, MESSAGE_LINK_ON_ITS_WAY.format(address=user.email))
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
    """Django's login view plus "remember me": a browser session unless it is ticked; and, for an account
    with two-factor sign-in on, not logged in yet: the code page finishes (blog/accounts/two_factor/sign_in.py)."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        user = form.get_user()
        if two_factor_selectors.has_second_factor(user):
            two_factor_sign_in.pending_sign_in_store(
                self.request, user=user, remember=form.cleaned_data["remember_me"], next_url=self.get_success_url()
            )
            return redirect("login_code")
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


@login_required
@require_http_methods(["GET", "POST"])
async def account(request: HttpRequest) -> HttpResponse:
    """Who you are here, your address and its state, and the way to your password and notification preferences."""
    user = await request.auser()
    form = EmailAddressForm(request.POST or None, initial={"email": user.email})
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if email == user.email:
            messages.info(request, MESSAGE_ADDRESS_UNCHANGED)
        else:
            user = await sync_to_async(account_services.user_email_change)(user=user, email=email)
            if not user.email:
                messages.success(request, MESSAGE_ADDRESS_REMOVED)
            elif not user.has_verified_email:
                messages.success(request, MESSAGE_LINK_ON_ITS_WAY.format(address=user.email))
        return redirect("account")
    context = {"form": form, "account": user, "two_factor_on": await two_factor_selectors.ahas_second_factor(user)}
    return TemplateResponse(request, "accounts/account.html", context)


@login_required
@require_POST
async def email_verification_resend(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    try:
        await sync_to_async(account_services.user_email_verification_resend)(user=user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, MESSAGE_LINK_ON_ITS_WAY.format(address=user.email))
    return redirect("account")


# A GET changes the account here, unlike the unsubscribe link: verifying is what the link's owner
# asked for, and a mail scanner that opens it proves only what the link already proves.
@never_cache
@require_GET
async def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    """Follow a verification link, logged in or not: the signed token says whose address it is."""
    try:
        user = await sync_to_async(account_services.user_email_verify)(token=token)
    except ValidationError as error:
        context = {
            "title": "That verification link does not work",
            "message": error.messages[0],
            "next_url": reverse("account"),
            "next_label": "Your account",
        }
        return TemplateResponse(request, "bad_link.html", context, status=400)
    messages.success(request, MESSAGE_ADDRESS_VERIFIED.format(address=user.email))
    if (await request.auser()).is_authenticated:
        return redirect("account")
    return redirect(settings.LOGIN_URL)

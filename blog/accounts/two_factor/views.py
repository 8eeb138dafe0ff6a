"""Two-factor pages: turning it on (QR code, then a code, then the recovery codes once), new recovery codes
and turning it off (each with the password), and the code step of signing in, which is also where a
signed-in user whose session has not given a code gives one."""

from __future__ import annotations

from base64 import b32encode

import segno
from asgiref.sync import sync_to_async
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import alogin, authenticate
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from blog.accounts import limits as address_limits
from blog.accounts.models import User
from blog.accounts.two_factor import policy, selectors, services, sign_in
from blog.accounts.two_factor.forms import AppCodeForm, CodeForm, PasswordForm
from blog.accounts.views import address_limited_page

MESSAGE_ON = "Two-factor sign-in is on. Keep your recovery codes somewhere safe."
MESSAGE_OFF = "Two-factor sign-in is off."
MESSAGE_CODE_AND_PASSWORD = "Enter the code your app shows and your password."  # noqa: S105 - a message
MESSAGE_WRONG_PASSWORD = "That password is not right: nothing was changed."  # noqa: S105 - a message, not a password
MESSAGE_SIGN_IN_AGAIN = "Your sign-in took too long to finish: enter your password again."
MESSAGE_RECOVERY_CODE_USED = "You used a recovery code: {left} left. New ones are on your two-factor page."
MESSAGE_NOT_ON = "Two-factor sign-in is not on for your account: set it up first."
MESSAGE_CODE_NEEDED = "What you asked for needs two-factor sign-in: enter a code from your authenticator app."
MESSAGE_ENROLMENT_NEEDED = (
    "Accounts that can publish, moderate or use the admin must use two-factor sign-in: set it up to go on."
)


def next_url_of(request: HttpRequest) -> str:
    """Where to go once done: the form's or the address's `next` if it is on this site, else the account page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URI as an inline SVG QR code (segno writes only its own markup)."""
    return mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4, border=2))  # noqa: S308


def grouped_secret(device: TOTPDevice) -> str:
    """The secret as an app asks for it when typed (base32), in groups of four to read it out."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))


@never_cache
@login_required
@require_GET
async def two_factor(request: HttpRequest) -> HttpResponse:
    """Whether two-factor sign-in is on; if not, the secret to scan and the form for the first code."""
    user = request.user
    context = {"next": next_url_of(request), "required": await policy.asecond_factor_required(user)}
    if await selectors.ahas_second_factor(user):
        context.update(
            enabled=True,
            verified=policy.is_verified(user),
            recovery_codes_left=await selectors.arecovery_codes_left(user),
            password_form=PasswordForm(),
        )
        return TemplateResponse(request, "accounts/two_factor.html", context)
    device = await sync_to_async(services.totp_enrolment_start)(user=user)
    context.update(enabled=False, qr_code=qr_code_svg(device), secret=grouped_secret(device), form=AppCodeForm())
    return TemplateResponse(request, "accounts/two_factor.html", context)


@never_cache
@login_required
@require_POST
async def two_factor_confirm(request: HttpRequest) -> HttpResponse:
    """The first code from the app: on success this session counts as verified, and the recovery codes are
    shown, in this answer only."""
    form = AppCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, MESSAGE_CODE_AND_PASSWORD)
        return page_with_next("two_factor", next_url_of(request))
    if not await password_confirms(request, request.user, form.cleaned_data["password"]):
        messages.error(request, MESSAGE_WRONG_PASSWORD)
        return page_with_next("two_factor", next_url_of(request))
    try:
        device, codes = await sync_to_async(services.totp_enrolment_confirm)(
            user=request.user, code=form.cleaned_data["code"]
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return page_with_next("two_factor", next_url_of(request))
    await request.session.acycle_key()  # more rights for this session: a new key
    otp_login(request, device)
    messages.success(request, MESSAGE_ON)
    return recovery_codes_page(request, codes)


def recovery_codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    context = {"codes": codes, "next": next_url_of(request)}
    return TemplateResponse(request, "accounts/two_factor_recovery_codes.html", context)


async def password_confirms(request: HttpRequest, user: User, password: str) -> bool:
    """The password checked as a login checks it: wrong ones count toward the same lockouts."""
    # authenticate() in a thread: the project's own backends (blog/accounts/limits.py) are sync.
    checked = await sync_to_async(authenticate)(request, username=user.get_username(), password=password)
    return checked is not None and checked.pk == user.pk


@never_cache
@login_required
@require_POST
async def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), shown once; needs the password."""
    user = request.user
    form = PasswordForm(request.POST)
    if not await selectors.ahas_second_factor(user):
        messages.error(request, MESSAGE_NOT_ON)
        return redirect("two_factor")
    if not form.is_valid() or not await password_confirms(request, user, form.cleaned_data["password"]):
        messages.error(request, MESSAGE_WRONG_PASSWORD)
        return redirect("two_factor")
    codes = await sync_to_async(services.recovery_codes_replace)(user=user)
    return recovery_codes_page(request, codes)


@login_required
@require_POST
async def two_factor_remove(request: HttpRequest) -> HttpResponse:
    """Turn two-factor sign-in off; needs the password."""
    user = request.user
    form = PasswordForm(request.POST)
    if not form.is_valid() or not await password_confirms(request, user, form.cleaned_data["password"]):
        messages.error(request, MESSAGE_WRONG_PASSWORD)
        return redirect("two_factor")
    await sync_to_async(services.second_factor_remove)(user=user)
    messages.success(request, MESSAGE_OFF)
    return redirect("account")


@never_cache
@require_http_methods(["GET", "POST"])
async def login_code(request: HttpRequest) -> HttpResponse:
    """The code after the password (a pending sign-in), or a signed-in user's code for a power that needs it.

    Refused, before any code is checked, while the address is over its failures or django-axes
    locks the username out; a wrong code counts toward both (blog/accounts/two_factor/sign_in.py).
    """
    user = request.user
    pending = None
    if user.is_authenticated:
        next_url = next_url_of(request)
        if policy.is_verified(user):
            return redirect(next_url)
        if not await selectors.ahas_second_factor(user):
            messages.info(request, MESSAGE_NOT_ON)
            return page_with_next("two_factor", next_url)
    else:
        pending = await sign_in.apending_sign_in(request)
        if pending is None:
            messages.info(request, MESSAGE_SIGN_IN_AGAIN)
            return redirect(settings.LOGIN_URL)
        user, next_url = pending.user, pending.next_url
    if retry_after := await sync_to_async(address_limits.login_failures_retry_after)(request):
        return address_limited_page(request, "registration/login_address_limited.html", retry_after)
    if await sync_to_async(sign_in.code_locked_out)(request, user):
        return await sync_to_async(get_lockout_response)(request, None, sign_in.credentials_of(user))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = await sync_to_async(services.second_factor_verify)(user=user, code=form.cleaned_data["code"])
        if device is not None:
            if pending is not None:
                await alogin(request, user, backend=pending.backend)
                # 0 ends the session when the browser closes; None uses SESSION_COOKIE_AGE.
                request.session.set_expiry(None if pending.remember else 0)
                await sign_in.apending_sign_in_clear(request)
            else:
                await request.session.acycle_key()  # more rights for this session: a new key
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = await selectors.arecovery_codes_left(user)
                messages.warning(request, MESSAGE_RECOVERY_CODE_USED.format(left=left))
            return redirect(next_url)
        await sync_to_async(sign_in.wrong_code_record)(request, user)
        form.add_error("code", services.MESSAGE_WRONG_CODE)
    context = {"form": form, "next": next_url, "step_up": pending is None}
    return TemplateResponse(request, "registration/login_code.html", context)


def page_with_next(url_name: str, next_url: str) -> HttpResponse:
    return redirect(f"{reverse(url_name)}?{urlencode({'next': next_url})}")


def second_factor_redirect(request: HttpRequest, *, next_url: str, enrolled: bool) -> HttpResponse:
    """A covered user sent to give a code (or, not enrolled yet, to set up two-factor sign-in), and told why;
    back to next_url afterwards."""
    if enrolled:
        messages.info(request, MESSAGE_CODE_NEEDED)
        return page_with_next("login_code", next_url)
    messages.info(request, MESSAGE_ENROLMENT_NEEDED)
    return page_with_next("two_factor", next_url)

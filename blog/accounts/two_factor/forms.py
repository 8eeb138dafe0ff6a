"""A code from the app (or a recovery code), and the password that guards changes to the second factor."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from blog.accounts.models import User
from blog.accounts.two_factor import selectors

MESSAGE_SIGN_IN_ON_THE_SITE = "This account uses two-factor sign-in: log in on the site's login page instead."


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


class AppCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    # Asked here too, not only for removal: whoever holds a session left open must not tie the
    # account to their own app, locking its owner out of the powers that need a code.
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class PasswordForm(forms.Form):
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login takes no code: an account with two-factor sign-in on logs in on the site's page."""

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if selectors.has_second_factor(user):
            raise ValidationError(MESSAGE_SIGN_IN_ON_THE_SITE, code="second_factor")

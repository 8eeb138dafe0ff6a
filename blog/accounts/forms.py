"""Login with remember-me, signup with an optional address, and the account page's address form."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from blog.accounts.models import User

EMAIL_HELP_TEXT = (
    "Optional. For password resets and, if you choose, notification emails. We send it a link to verify it."
)


class LoginForm(AuthenticationForm):
    remember_me = forms.BooleanField(required=False, label="Remember me for two weeks")


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=False, label="Email address", help_text=EMAIL_HELP_TEXT)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username"]

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"])


class EmailAddressForm(forms.Form):
    """A new address, or empty to remove it."""

    email = forms.EmailField(
        required=False, label="Email address", help_text="Leave it empty to remove the address.", max_length=254
    )

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"])

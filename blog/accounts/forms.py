"""Login with remember-me, signup with an optional address, the account page's address form, and the
admin's user forms, which check a new name as signup does."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, AuthenticationForm, UserChangeForm, UserCreationForm

from blog.accounts.models import User
from blog.accounts.names import validate_unconfusable_username

EMAIL_HELP_TEXT = (
    "Optional. For password resets and, if you choose, notification emails. We send it a link to verify it."
)


class LoginForm(AuthenticationForm):
    remember_me = forms.BooleanField(required=False, label="Remember me for two weeks")


class UnconfusableNewUsername:
    """For a form that creates a user: after Django's own check (a name taken in any case), the
    name may not look like another user's nor mix scripts."""

    def clean_username(self) -> str | None:
        username = super().clean_username()
        if username:
            validate_unconfusable_username(username)
        return username


class SignupForm(UnconfusableNewUsername, UserCreationForm):
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


class AdminUserAddForm(UnconfusableNewUsername, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User


class AdminUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        # A name that is not changed is not checked: users whose names looked alike before the
        # rule came in can still be edited. A rename may look like the user's own current name.
        if "username" in self.changed_data:
            validate_unconfusable_username(username, exclude_user_id=self.instance.pk)
        return username

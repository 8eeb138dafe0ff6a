"""Login with remember-me, and signup."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from blog.accounts.models import User


class LoginForm(AuthenticationForm):
    remember_me = forms.BooleanField(required=False, label="Remember me for two weeks")


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username"]

"""A new name may not look like another user's, nor mix scripts: at signup and in the admin alike."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.test import Client

from blog.accounts.names import (
    MESSAGE_USERNAME_CONFUSABLE,
    MESSAGE_USERNAME_MIXED_SCRIPTS,
    username_skeleton,
    validate_unconfusable_username,
)
from blog.models import User
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

# Latin "writer" with a Cyrillic і (U+0456): the same on screen.
WRITER_WITH_CYRILLIC_I = "wr\u0456ter"
# Latin "paypal" with a Cyrillic а (U+0430), and "pop" written wholly in Cyrillic.
PAYPAL_WITH_CYRILLIC_A = "p\u0430ypal"
POP_IN_CYRILLIC = "\u0440\u043e\u0440"
USERS = "/admin/blog/user/"


def sign_up(username: str):
    """Each signup from a browser of its own (a signup logs that browser in)."""
    return Client().post("/accounts/signup/", {"username": username, "password1": PASSWORD, "password2": PASSWORD})


def username_errors(response) -> list[str]:
    assert response.status_code == 200
    form = response.context["adminform"].form if "adminform" in response.context else response.context["form"]
    return form.errors["username"]


@pytest.fixture
def admin_browser(db) -> Client:
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def admin_add(client: Client, username: str):
    form = {"username": username, "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD}
    return client.post(f"{USERS}add/", form)


def admin_change(client: Client, user: User, **changes: str):
    """The change form as the admin sends it back, with `changes` made (the user stays active)."""
    form = {
        "username": user.username,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        **changes,
    }
    return client.post(f"{USERS}{user.pk}/change/", form)


def test_signup_refuses_a_name_with_a_letter_from_another_alphabet_that_looks_like_an_existing_one():
    make_user("writer")
    assert username_errors(sign_up(WRITER_WITH_CYRILLIC_I)) == [MESSAGE_USERNAME_CONFUSABLE]
    assert not User.objects.filter(username=WRITER_WITH_CYRILLIC_I).exists()


def test_signup_refuses_a_name_in_one_script_that_looks_like_an_existing_one():
    """Neither mixed nor the same letters: only the skeleton sees it."""
    make_user("pop")
    make_user("modern")
    assert username_errors(sign_up(POP_IN_CYRILLIC)) == [MESSAGE_USERNAME_CONFUSABLE]
    assert username_errors(sign_up("rnodern")) == [MESSAGE_USERNAME_CONFUSABLE]
    assert not User.objects.filter(username__in=[POP_IN_CYRILLIC, "rnodern"]).exists()


def test_signup_refuses_a_name_that_differs_from_an_existing_one_in_case_or_in_look_alike_capitals():
    make_user("writer")
    make_user("bob")
    assert username_errors(sign_up("WRITER"))
    # 0 looks like a capital O, which is a lower-case o once case is ignored.
    assert username_errors(sign_up("B0B")) == [MESSAGE_USERNAME_CONFUSABLE]
    assert set(User.objects.values_list("username", flat=True)) == {"writer", "bob"}


def test_signup_refuses_a_name_that_mixes_scripts_even_when_it_looks_like_nobody():
    assert username_errors(sign_up(PAYPAL_WITH_CYRILLIC_A)) == [MESSAGE_USERNAME_MIXED_SCRIPTS]
    assert not User.objects.exists()


def test_signup_accepts_names_in_one_script_and_ordinary_new_names():
    make_user("writer")
    # Cyrillic, Greek, and Japanese, whose kanji and kana are one writing system.
    for username in ["Иван", "Αλέξης", "山田たろう", "writer2", "new_reader-1.b@c+d"]:
        assert sign_up(username).status_code == 302, username
        assert User.objects.filter(username=username).exists()


def test_the_admin_refuses_to_add_a_look_alike_or_mixed_name(admin_browser):
    make_user("writer")
    assert username_errors(admin_add(admin_browser, WRITER_WITH_CYRILLIC_I)) == [MESSAGE_USERNAME_CONFUSABLE]
    assert username_errors(admin_add(admin_browser, PAYPAL_WITH_CYRILLIC_A)) == [MESSAGE_USERNAME_MIXED_SCRIPTS]
    assert not User.objects.filter(username__in=[WRITER_WITH_CYRILLIC_I, PAYPAL_WITH_CYRILLIC_A]).exists()
    assert admin_add(admin_browser, "newcomer").status_code == 302
    assert User.objects.filter(username="newcomer").exists()


def test_the_admin_refuses_to_rename_a_user_to_look_like_another(admin_browser):
    make_user("writer")
    reader = make_user("reader")
    # Django's change form checks only the exact name: another user's name in capitals is the skeleton's to see.
    for username in ["Writer", WRITER_WITH_CYRILLIC_I, PAYPAL_WITH_CYRILLIC_A]:
        assert username_errors(admin_change(admin_browser, reader, username=username)), username
    reader.refresh_from_db()
    assert reader.username == "reader"


def test_a_user_may_be_renamed_to_a_variant_of_their_own_name(admin_browser):
    writer = make_user("writer")
    assert admin_change(admin_browser, writer, username="Writer").status_code == 302
    writer.refresh_from_db()
    assert writer.username == "Writer"


def test_users_whose_names_looked_alike_before_the_rule_can_still_be_edited(admin_browser):
    """The rule checks new names only: an unchanged name is not refused for a look-alike made before."""
    make_user("writer")
    older_look_alike = make_user("Writer")
    response = admin_change(admin_browser, older_look_alike, email="writer@example.com")
    assert response.status_code == 302
    older_look_alike.refresh_from_db()
    assert older_look_alike.email == "writer@example.com"


def test_the_skeleton_is_stored_whenever_the_name_is_saved():
    user = make_user("B0B")
    assert user.username_skeleton == username_skeleton("bob")
    user.username = "m\u0430ry"
    user.save(update_fields=["username"])
    user.refresh_from_db()
    assert user.username_skeleton == username_skeleton("mary") == "rnary"


def test_the_migration_fills_the_skeleton_of_existing_users():
    user = make_user("Writer")
    User.objects.filter(pk=user.pk).update(username_skeleton="")
    migration = importlib.import_module("blog.migrations.0012_username_skeleton")
    migration.fill_username_skeletons(django_apps, schema_editor=None)
    user.refresh_from_db()
    assert user.username_skeleton == username_skeleton("writer")


def test_a_new_name_is_checked_against_every_user_with_one_query(django_assert_num_queries):
    for number in range(20):
        make_user(f"someone{number}")
    with django_assert_num_queries(1):
        validate_unconfusable_username("someone_else")

"""Two-factor sign-in in real Chromium, against a server that requires it of staff and publishers: the demo
Editor is sent from the admin to set it up, scans nothing but reads the secret off the page, confirms with a
real code (pyotp), sees the recovery codes, signs out, signs in with the password and then a code, and is
let into the admin and the moderation queue."""

from __future__ import annotations

import re
import time

import pyotp
from playwright.async_api import expect

from tests.e2e.browser import PageProblems, chromium
from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_browser_journeys import screenshot

VIEWPORT = {"width": 1000, "height": 900}


async def test_an_editor_sets_up_two_factor_sign_in_and_signs_in_with_a_code(start_daphne):
    server = start_daphne(BLOG_REQUIRE_2FA="staff,publishers")
    problems = PageProblems()
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=VIEWPORT)).new_page()
        problems.watch(page, "editor")

        # Signed in with the password alone (no second factor yet), the admin sends the Editor to set it up.
        await page.goto(f"{server.base_url}/accounts/login/?next=/admin/")
        await page.fill("input[name=username]", "editor")
        await page.fill("input[name=password]", DEMO_PASSWORD)
        await page.click("form.auth-form button[type=submit]")
        await page.wait_for_url("**/accounts/two-factor/?next=%2Fadmin%2F")
        await expect(page.locator(".messages")).to_contain_text("must use two-factor sign-in")
        await expect(page.locator(".two-factor-qr svg")).to_be_visible()
        secret = re.sub(r"\s", "", await page.locator("[data-secret]").inner_text())
        app = pyotp.TOTP(secret)
        await screenshot(page, "two-factor-enrolment")

        await page.fill("input[name=code]", app.now())
        await page.fill("input[name=password]", DEMO_PASSWORD)
        await page.click("form.auth-form button[type=submit]")
        codes = page.locator("ul.recovery-codes code")
        await expect(codes).to_have_count(10)
        await page.click("text=I have saved them: continue")
        await page.wait_for_url("**/admin/")
        await expect(page.locator("body")).to_contain_text("Site administration")

        # Signed out, then in again: the password, then a code (the next one: each is taken once).
        await page.goto(f"{server.base_url}/blog/")
        await page.click("form.logout-form button")
        await page.goto(f"{server.base_url}/accounts/login/?next=/admin/")
        await page.fill("input[name=username]", "editor")
        await page.fill("input[name=password]", DEMO_PASSWORD)
        await page.click("form.auth-form button[type=submit]")
        await page.wait_for_url("**/accounts/login/code/")
        await expect(page.locator("body")).to_contain_text("Your password was right")
        await page.fill("input[name=code]", app.at(time.time() + app.interval))
        await page.click("form.auth-form button[type=submit]")
        await page.wait_for_url("**/admin/")
        await expect(page.locator("body")).to_contain_text("Site administration")

        await page.goto(f"{server.base_url}/moderation/")
        await expect(page.locator("h1")).to_contain_text("Moderation")
    assert problems.apart_from_the_server_being_down() == []

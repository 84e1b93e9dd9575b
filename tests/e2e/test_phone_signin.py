"""Phone sign-in in the phone app (issue 21), end to end in Debian's Chromium on the real server with the SMS
provider's local stand-in: the Me screen leads with phone and code, the code the stand-in received signs in
(a new number gets an account), the profile shows the number masked, and the booking form offers that number
as the visit's contact phone.

Run: `.venv/bin/pytest -m e2e tests/e2e/test_phone_signin.py`.
"""

from __future__ import annotations

import random

import pytest

from tests.conftest import sms_standin
from tests.e2e.conftest import Phone

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


async def test_a_phone_signs_in_with_the_texted_code_and_books_with_it(phone: Phone) -> None:
    digits = "137" + f"{random.randrange(10**8):08d}"
    page = phone.page
    await phone.open("/me")
    form = page.get_by_test_id("form-phone")
    await form.wait_for()
    await form.locator("input[name=phone]").fill(f"{digits[:3]} {digits[3:7]} {digits[7:]}")
    await page.get_by_test_id("send-code").click()
    await page.get_by_test_id("send-code").get_by_text("秒后重发").wait_for()  # the resend countdown runs
    for _ in range(50):
        if sms_standin.last_code("+86" + digits):
            break
        await page.wait_for_timeout(100)
    code = sms_standin.last_code("+86" + digits)
    assert code and len(code) == 6
    await form.locator("input[name=sms_code]").fill(code)
    await page.get_by_test_id("phone-login").click()
    masked = f"{digits[:3]}****{digits[-4:]}"
    await page.get_by_test_id("profile-phone").get_by_text(masked).wait_for()
    assert digits not in await page.content()

    # the booking form offers the account's number as the contact phone
    await phone.open("/venues/changzhou-museum")
    await page.get_by_test_id("slot").first.wait_for()
    slots = page.locator("[data-testid=slot]:not([disabled])")
    await slots.first.click()
    await page.get_by_test_id("book").click()
    field = page.get_by_test_id("contact-phone").locator("input")
    await field.wait_for()
    assert masked in (await field.get_attribute("placeholder") or "")
    assert not phone.errors, phone.errors

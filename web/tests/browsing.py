"""What the web app's browser tests share: the sign-in form, screenshots, toasts, viewports."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from playwright.sync_api import Browser, Page, expect

PASSWORD = "correct-horse-battery-staple"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot in var/screenshots/<name>.png (CI keeps var/)."""
    path = Path(settings.VAR_DIR) / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000
    return path


def open_page(browser: Browser, viewport: dict = DESKTOP, **options) -> tuple[Page, list[str]]:
    """A page in a browser context of its own that accepts hx-confirm's dialogs, and the
    Content-Security-Policy violations its console reports (a test ends expecting none)."""
    page = browser.new_context(viewport=viewport, **options).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page, violations


def fill_sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """On the sign-in page (wherever it was reached from): the form, then the page after."""
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    """Through the sign-in page, to the home page."""
    page.goto(f"{base}/app/login/")
    fill_sign_in(page, email, password)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def clear_toasts(page: Page) -> None:
    """Dismiss the toasts (a click each), so a screenshot shows the page under them."""
    toasts = page.locator("#toasts .toast")
    while toasts.count():
        toasts.first.click()

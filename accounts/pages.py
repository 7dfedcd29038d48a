"""The two pages the emailed links open: verify an address, choose a new password.

Plain server-rendered HTML, no script. GET only shows a form (and whether the link still
works): mail scanners fetch links, so nothing changes until the person presses the button,
a POST with Django's CSRF check. Both call the same services as the API.
"""

from __future__ import annotations

from typing import Any

from csp.decorators import csp
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from taskplatform.exceptions import ApplicationError
from taskplatform.form_pages import FORM_PAGE_POLICY

from .password_reset import password_reset_confirm
from .tokens import INVALID_RESET, INVALID_VERIFICATION, reset_token_user, verification_token_user
from .verification import email_verification_confirm

MAX_TOKEN = 1024  # as the API's serializers
MAX_PASSWORD = 128


def _page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    context.update(site_name=settings.SITE_NAME, site_url=settings.SITE_URL)
    return render(request, f"accounts/{template}", context)


def _token(request: HttpRequest) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return str(source.get("token", ""))


def _field_errors(exc: ApplicationError, field: str) -> list[str]:
    return [str(message) for message in (exc.details or {}).get(field, [exc.message])]


@never_cache
@csp(FORM_PAGE_POLICY)
@require_http_methods(["GET", "POST"])
def verify_email_page(request: HttpRequest) -> HttpResponse:
    token = _token(request)
    try:
        if len(token) > MAX_TOKEN:
            raise ApplicationError(INVALID_VERIFICATION, code="validation_error")
        if request.method == "POST":
            email_verification_confirm(token=token)
            return _page(request, "verify_email.html", done=True)
        if token:
            verification_token_user(token=token)  # only reads: say now if the link is dead
    except ApplicationError as exc:
        return _page(request, "verify_email.html", errors=_field_errors(exc, "token"))
    return _page(request, "verify_email.html", token=token)


@never_cache
@csp(FORM_PAGE_POLICY)
@require_http_methods(["GET", "POST"])
def reset_password_page(request: HttpRequest) -> HttpResponse:
    token = _token(request)
    try:
        if len(token) > MAX_TOKEN:
            raise ApplicationError(INVALID_RESET, code="validation_error")
        if token:
            reset_token_user(token=token)  # only reads: say now if the link is dead
    except ApplicationError as exc:
        return _page(request, "reset_password.html", token_errors=_field_errors(exc, "token"))
    if request.method == "GET" or not token:
        return _page(request, "reset_password.html", token=token)
    password = request.POST.get("new_password", "")
    if len(password) > MAX_PASSWORD:
        errors = [f"Use at most {MAX_PASSWORD} characters."]
    elif password != request.POST.get("new_password_again", ""):
        errors = ["The two passwords differ: type the same one twice."]
    else:
        try:
            password_reset_confirm(token=token, new_password=password)
        except ApplicationError as exc:
            if "token" in (exc.details or {}):  # spent meanwhile
                errors = _field_errors(exc, "token")
                return _page(request, "reset_password.html", token_errors=errors)
            errors = _field_errors(exc, "new_password")
        else:
            return _page(request, "reset_password.html", done=True)
    return _page(request, "reset_password.html", token=token, password_errors=errors)

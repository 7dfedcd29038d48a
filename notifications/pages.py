"""The pages an email's links open: one-click unsubscribe and the notification preferences;
and, on the embedded default only, the mailbox of the emails written to var/mail/.

Plain server-rendered HTML, no script, no login: the signed token in the link is the
credential (notifications/unsubscribe_tokens.py). A GET only shows (mail scanners fetch
links); the change is a POST. `POST /unsubscribe/?token=…` with the body
`List-Unsubscribe=One-Click` is RFC 8058's one-click unsubscribe, which mail providers send
without cookies — so no CSRF check: the token, which only the recipient has, is what a
forged request would lack.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any

from csp.decorators import csp
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from taskplatform.exceptions import ApplicationError
from taskplatform.form_pages import FORM_PAGE_POLICY

from .forms import PreferencesForm
from .mailbox import mailbox_list, mailbox_read
from .services import preferences_get, preferences_update
from .unsubscribe import Unsubscription, unsubscribe_apply, unsubscribe_describe

ONE_CLICK = "One-Click"  # RFC 8058: the body is List-Unsubscribe=One-Click
SAVE = "save-preferences"  # the preferences form's submit button


@never_cache
@csrf_exempt
@csp(FORM_PAGE_POLICY)
@require_http_methods(["GET", "POST"])
def unsubscribe_page(request: HttpRequest) -> HttpResponse:
    """GET: what the link stops, a button, and the preferences. POST: one click, or the
    preferences form saved."""
    return _answer(request, offer_unsubscribe=True)


@never_cache
@csrf_exempt
@csp(FORM_PAGE_POLICY)
@require_http_methods(["GET", "POST"])
def preferences_page(request: HttpRequest) -> HttpResponse:
    """The footer's "choose which emails you get": the preferences only (the mail's token
    may name its kind too: one token serves both links)."""
    return _answer(request, offer_unsubscribe=False)


def _answer(request: HttpRequest, *, offer_unsubscribe: bool) -> HttpResponse:
    token = _token(request)
    one_click = request.method == "POST" and request.POST.get("List-Unsubscribe") == ONE_CLICK
    try:
        if one_click and offer_unsubscribe:
            done = unsubscribe_apply(token=token)
            return _page(request, token, done, unsubscribed=True)
        about = unsubscribe_describe(token=token)
    except ApplicationError as exc:
        return _invalid(request, exc)
    if not offer_unsubscribe:
        about = replace(about, kind=None, description="")
    if request.method == "GET":
        return _page(request, token, about)
    if request.POST.get("action") != SAVE:  # neither form: change nothing
        return _page(request, token, about, status=400, unknown_post=True)
    return _preferences_save(request, token, about)


def _preferences_save(request: HttpRequest, token: str, about: Unsubscription) -> HttpResponse:
    form = PreferencesForm(request.POST, instance=preferences_get(user=about.user))
    if not form.is_valid():
        return _page(request, token, about, form=form, status=400)
    # the form checked the shape; the service makes (and audits) the change
    preferences_update(user=about.user, **form.cleaned_data)
    return _page(request, token, about, saved=True)


def _token(request: HttpRequest) -> str:
    # RFC 8058 keeps the token in the URL the POST goes to; the page's forms send it as well
    return str(request.POST.get("token") or request.GET.get("token") or "")


def _page(
    request: HttpRequest,
    token: str,
    about: Unsubscription,
    *,
    form: PreferencesForm | None = None,
    status: int = 200,
    **context: Any,
) -> HttpResponse:
    if form is None:
        form = PreferencesForm(instance=preferences_get(user=about.user))
    context.update(
        site_name=settings.SITE_NAME,
        token=token,
        about=about,
        form=form,
        email=about.user.email,
    )
    return render(request, "notifications/unsubscribe.html", context, status=status)


def _invalid(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    errors = (exc.details or {}).get("token", [exc.message])
    context = {"site_name": settings.SITE_NAME, "errors": [str(error) for error in errors]}
    return render(request, "notifications/invalid_link.html", context, status=400)


def _mailbox_open(request: HttpRequest) -> bool:
    """The mailbox exists only on the embedded default (mail written to var/mail/) and only
    for a request made on this machine, straight to the app: a loopback address and no
    proxy in between (behind a proxy on the same host every request would come from
    loopback)."""
    proxied = "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META
    address = request.META.get("REMOTE_ADDR", "")
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = False
    return settings.EMBEDDED_MAIL and loopback and not proxied


def mailbox_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """404 wherever the mailbox doesn't exist; staff only where it does (it holds every
    account's verification and reset links)."""
    staff_view = staff_member_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _mailbox_open(request):
            raise Http404
        return staff_view(request, *args, **kwargs)

    return wrapper


@never_cache
@csp(FORM_PAGE_POLICY)
@require_http_methods(["GET"])
@mailbox_only
def mailbox_page(request: HttpRequest) -> HttpResponse:
    """Every email the platform wrote to var/mail/, newest first, with its links."""
    return render(request, "notifications/mailbox.html", {"mails": mailbox_list()})


@never_cache
@csp(FORM_PAGE_POLICY)
@require_http_methods(["GET"])
@mailbox_only
def mailbox_mail_page(request: HttpRequest, name: str) -> HttpResponse:
    """One email: its headers and its text, links clickable."""
    mail = mailbox_read(name=name)
    if mail is None:
        raise Http404
    return render(request, "notifications/mailbox_mail.html", {"mail": mail})

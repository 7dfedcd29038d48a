"""What every page of the web app shares: who may see it, how a service's error becomes form
errors, rate limits answered with the 429 page, and htmx partials and toasts.

The pages call the same services and selectors as the API; nothing here is business logic.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_ratelimit.core import is_ratelimited
from django_redis.exceptions import ConnectionInterrupted
from redis import RedisError

from accounts.models import User
from taskplatform.exceptions import ApplicationError
from taskplatform.net import client_ip

# what an unreachable cache raises (Redis through django-redis; the file cache: OSError)
CACHE_DOWN = (ConnectionInterrupted, RedisError, OSError)
# what a page answers when a form doesn't validate: htmx swaps it in (app.js's config)
INVALID = 422
PAGE_SIZE = 20


class SignedInRequest(HttpRequest):
    """What a view under `signed_in` gets: a request whose user is an account."""

    user: User


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def htmx_target(request: HttpRequest) -> str:
    return request.headers.get("HX-Target", "") if is_htmx(request) else ""


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Only for a signed-in user; others go to the sign-in page and come back after. A
    POST counts against RATELIMITS["api"] per person (the 429 page or toast past it).

    An htmx request whose session ended is told to load the sign-in page as a whole page
    (HX-Redirect) rather than having it swapped into a corner of the current one.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            # every change counts against the same per-person limit as the API's calls
            if request.method == "POST" and (hit := limited(request, ("api", "caller"))):
                return hit
            # times on the page in the person's own zone
            with timezone.override(ZoneInfo(request.user.timezone)):
                response = view(request, *args, **kwargs)
            # someone's own data: never kept by a shared cache or the browser's back button
            add_never_cache_headers(response)
            return response
        back = request.headers.get("HX-Current-URL", "") if is_htmx(request) else ""
        back = back or request.get_full_path()
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("web:home")
        target = f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': back})}"
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)

    return wrapper


def safe_next(request: HttpRequest, default: str = "web:home") -> str:
    """The `next` a form carried, if it stays on this site; else the default page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def errors_onto(form: forms.Form, exc: ApplicationError) -> None:
    """A service's ApplicationError as form errors: each detail on its field (or on the form
    when no field of the form has that name), else the message on the form."""
    details = exc.details or {}
    for name, found in details.items():
        items: Iterable[Any] = found if isinstance(found, list | tuple) else [found]
        for message in items:
            text = message if isinstance(message, str) else json.dumps(message)
            form.add_error(name if name in form.fields else None, text)
    if not details:
        form.add_error(None, exc.message)


def toast(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    """Show a toast after an htmx request (app.js listens for the `toast` event)."""
    events = json.loads(response.get("HX-Trigger") or "{}")
    events["toast"] = {"message": message, "level": level}
    response["HX-Trigger"] = json.dumps(events)
    return response


def done(request: HttpRequest, message: str, to: str) -> HttpResponse:
    """After a change: the message as a toast on the next page, which htmx loads whole."""
    messages.success(request, message)
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Location"] = to
        return response
    return redirect(to)


def _caller(group: str, request: HttpRequest) -> str:
    user = request.user
    return f"user:{user.pk}" if user.is_authenticated else f"ip:{client_ip(request) or '-'}"


def _form_email(group: str, request: HttpRequest) -> str:
    return str(request.POST.get("email", "")).strip().lower()[:254]


KEYS: dict[str, Callable[[str, HttpRequest], str]] = {"caller": _caller, "email": _form_email}


def limited(request: HttpRequest, *limits: tuple[str, str]) -> HttpResponse | None:
    """The 429 page if any of `limits` — (a name in settings.RATELIMITS, "caller" or
    "email") — is used up for this request; None otherwise. Counted per web POST, in the
    same cache as the API's limits (an unreachable cache lets the request through)."""
    if not settings.RATELIMIT_ENABLE:
        return None
    for name, key in limits:
        try:
            hit = is_ratelimited(
                request,
                group=f"web:{name}",
                key=KEYS[key],
                rate=settings.RATELIMITS[name],
                increment=True,
            )
        except CACHE_DOWN:  # fail open, as the API does
            return None
        if hit:
            return too_many(request, _seconds(settings.RATELIMITS[name]))
    return None


def _seconds(rate: str) -> int:
    _, _, period = rate.partition("/")
    unit = period.lstrip("0123456789") or "m"
    amount = int(period[: len(period) - len(unit)] or 1)
    return amount * {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(unit[0], 60)


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(request, "web/429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response

"""The notifications pages: the emails the platform sent the signed-in user (filtered by
status and kind), one email's text and delivery, and the user's email preferences.

The same selector and services as the API (notifications.selectors / notifications.services);
the preferences form is the emailed-link page's (/email-preferences/), for the signed-in
user instead of a token's.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from notifications.forms import CHOICES
from notifications.kinds import PREFERENCE_FOR_KIND, Kind
from notifications.models import Notification
from notifications.selectors import notification_list
from notifications.services import preferences_get, preferences_update

from ..forms.notifications import NotificationFilterForm, PreferencesForm
from .base import (
    INVALID,
    PAGE_SIZE,
    SignedInRequest,
    htmx_target,
    is_htmx,
    signed_in,
    toast,
)

# what the list shows: the bodies stay in the database
LIST_FIELDS = ("id", "kind", "subject", "status", "created_at", "sent_at", "attempts")


@signed_in
def notification_list_page(request: SignedInRequest) -> HttpResponse:
    form = NotificationFilterForm(request.GET)
    notifications = notification_list(user=request.user).only(*LIST_FIELDS)
    status = 200
    if form.is_valid():
        if form.cleaned_data["status"]:
            notifications = notifications.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["kind"]:
            notifications = notifications.filter(kind=form.cleaned_data["kind"])
    else:
        notifications = notifications.none()
        status = INVALID
    notifications = notifications.order_by("-created_at", "-id")
    page_obj = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page_obj": page_obj, "notifications": page_obj.object_list}
    if htmx_target(request) == "notification-results":
        return render(request, "web/notifications/_results.html", context, status=status)
    return render(request, "web/notifications/list.html", context, status=status)


@signed_in
def notification_detail_page(request: SignedInRequest, notification_id: int) -> HttpResponse:
    notification = get_object_or_404(notification_list(user=request.user), pk=notification_id)
    context = {
        "notification": notification,
        "finished": notification.status in Notification.FINISHED,
    }
    if htmx_target(request) == "notification-detail":
        return render(request, "web/notifications/_detail.html", context)
    return render(request, "web/notifications/detail.html", context)


@signed_in
@require_http_methods(["GET", "POST"])
def preferences_page(request: SignedInRequest) -> HttpResponse:
    preference = preferences_get(user=request.user)
    form = PreferencesForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        # the form checked the shape; the service makes (and audits) the change
        preferences_update(user=request.user, **form.cleaned_data)
        message = "Your email preferences are saved."
        if not is_htmx(request):
            messages.success(request, message)
            return redirect("web:preferences")
        form = PreferencesForm(instance=preferences_get(user=request.user))
        return toast(_preferences(request, form), message)
    return _preferences(request, form, status=INVALID if form.errors else 200)


def _preferences(
    request: SignedInRequest, form: PreferencesForm, status: int = 200
) -> HttpResponse:
    always = [label for kind, label in Kind.choices if kind not in PREFERENCE_FOR_KIND]
    context = {"form": form, "kinds": [form[name] for name in CHOICES], "always": always}
    template = "web/notifications/preferences.html"
    if htmx_target(request) == "preferences-form":
        template = "web/notifications/_preferences_form.html"
    return render(request, template, context, status=status)


urlpatterns = [
    path("", notification_list_page, name="notification-list"),
    path("preferences/", preferences_page, name="preferences"),
    path("<int:notification_id>/", notification_detail_page, name="notification-detail"),
]

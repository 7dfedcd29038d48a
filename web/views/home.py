"""The first page after signing in: what needs attention, with links to the rest."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from jobs.selectors import job_active_count
from meetings.selectors import meetings_upcoming
from notifications.selectors import notification_list
from tasks.models import Task, overdue_condition
from tasks.selectors import task_list

from .base import SignedInRequest, signed_in


@signed_in
def home(request: SignedInRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    mine = task_list(user=user).filter(Q(owner=user) | Q(assignee=user))
    tasks = mine.aggregate(
        open=Count("id", filter=~Q(status=Task.Status.DONE)),
        overdue=Count("id", filter=overdue_condition(now=now)),
    )
    context = {
        "tasks": tasks,
        "active_jobs": job_active_count(owner=user),
        "meetings": list(meetings_upcoming(user=user, now=now)[:5]),
        "notifications": list(notification_list(user=user).order_by("-created_at")[:5]),
    }
    return render(request, "web/home.html", context)


urlpatterns = [path("", home, name="home")]

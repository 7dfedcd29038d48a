"""The jobs pages: the list, the schedule builder (create and edit) with its next-5-runs
preview, a job's page with its run history, and pause / resume / run now / delete.

They call the services and selectors the API calls (jobs.services, jobs.selectors) and show
the next runs with the same code as the API's `upcoming_runs` (jobs.schedules.upcoming).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs import kinds
from jobs.models import Job
from jobs.quotas import mailing_interval_check
from jobs.schedules import CRON, INTERVAL, ONCE, Schedule, from_job, upcoming
from jobs.selectors import job_list, run_list
from jobs.services import (
    job_create,
    job_delete,
    job_pause,
    job_resume,
    job_run_now,
    job_update,
)
from jobs.validation import fields_check, first_run
from taskplatform.exceptions import ApplicationError
from taskplatform.timezones import zone_check

from ..forms.jobs import (
    KIND_HELP,
    NOTIFY_LABELS,
    SCHEDULE_DEFAULTS,
    SCHEDULE_FIELDS,
    WALL_CLOCK,
    JobFilterForm,
    JobForm,
    ParamsForm,
    job_initial,
    kind_label,
    params_form,
)
from .base import (
    INVALID,
    PAGE_SIZE,
    SignedInRequest,
    done,
    htmx_target,
    is_htmx,
    limited,
    signed_in,
    toast,
)

# the form's fields the preview looks at
PREVIEW_FIELDS = ("schedule_type", *SCHEDULE_FIELDS, "timezone", "kind", "notify_on")
PARAM_LABELS = {
    "task_id": "Task number",
    "older_than_days": "Older than (days)",
    "name_pattern": "Names matching",
}
# what a service's refusal of an action answers an htmx request (app.js toasts the message)
REFUSED = 409


def _job(request: SignedInRequest, pk: int) -> Job:
    """The signed-in person's job (another's is a 404: the selector scopes it)."""
    return get_object_or_404(job_list(user=request.user), pk=pk)


# --- the list ----------------------------------------------------------------------------------


@signed_in
@require_GET
def job_list_page(request: SignedInRequest) -> HttpResponse:
    filters = JobFilterForm(request.GET)
    jobs = job_list(user=request.user)
    if filters.is_valid():  # a value that isn't a choice is ignored, as the select can't send it
        if status := filters.cleaned_data["status"]:
            jobs = jobs.filter(status=status)
        if kind := filters.cleaned_data["kind"]:
            jobs = jobs.filter(kind=kind)
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        (job, schedule_words(from_job(job), job.timezone), kind_label(job.kind)) for job in page
    ]
    context = {"filters": filters, "page_obj": page, "rows": rows}
    if htmx_target(request) == "job-results":
        return render(request, "web/jobs/_results.html", context)
    return render(request, "web/jobs/list.html", context)


# --- the schedule builder ------------------------------------------------------------------------


@signed_in
@require_http_methods(["GET", "POST"])
def job_create_page(request: SignedInRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = JobForm(request.POST)
        params = params_form(form.chosen_kind, user=user, data=request.POST)
        if _valid(form, params):
            try:
                job = job_create(owner=user, **form.job_input(params=params.params()))
            except ApplicationError as exc:
                form.show(exc, params)
            else:
                to = reverse("web:job-detail", args=[job.pk])
                return done(request, f"“{job.name}” is created.", to)
        return _builder(request, form, params, status=INVALID)
    form = JobForm(initial=job_initial(user=user))
    return _builder(request, form, params_form(form.chosen_kind, user=user))


@signed_in
@require_http_methods(["GET", "POST"])
def job_edit_page(request: SignedInRequest, pk: int) -> HttpResponse:
    user = request.user
    job = _job(request, pk)
    current = from_job(job)
    if request.method == "POST":
        form = JobForm(request.POST)
        same_kind = form.chosen_kind == job.kind
        params = params_form(
            form.chosen_kind, user=user, data=request.POST, params=job.params if same_kind else None
        )
        if _valid(form, params):
            try:
                job_update(
                    job=job, actor=user, **form.job_input(params=params.params(), current=current)
                )
            except ApplicationError as exc:
                form.show(exc, params)
            else:
                to = reverse("web:job-detail", args=[job.pk])
                return done(request, f"“{form.cleaned_data['name']}” is saved.", to)
        return _builder(request, form, params, job=job, status=INVALID)
    form = JobForm(initial=job_initial(user=user, job=job, schedule=current))
    return _builder(request, form, params_form(job.kind, user=user, params=job.params), job=job)


def _valid(form: JobForm, params: ParamsForm) -> bool:
    return all([form.is_valid(), params.is_valid()])  # both, so both show their errors


def _builder(
    request: SignedInRequest,
    form: JobForm,
    params: ParamsForm,
    *,
    job: Job | None = None,
    status: int = 200,
) -> HttpResponse:
    data = request.POST if form.is_bound else _as_data(form.initial)
    context = {
        "form": form,
        "params_form": params,
        "kind_help": KIND_HELP.get(form.chosen_kind, ""),
        "job": job,
        "preview_url": reverse("web:job-edit-preview", args=[job.pk])
        if job
        else reverse("web:job-preview"),
        **_preview(request, data, job),
    }
    return render(request, "web/jobs/form.html", context, status=status)


def _as_data(initial: Mapping[str, Any]) -> dict[str, Any]:
    """A form's initial values as the data its page would send (for the first preview)."""
    data = dict(initial)
    if isinstance(data.get("run_at"), datetime):
        data["run_at"] = data["run_at"].strftime(WALL_CLOCK)
    return data


@signed_in
@require_GET
def schedule_fields(request: SignedInRequest) -> HttpResponse:
    """The fields of the schedule type chosen (what the page has, else the type's defaults);
    the preview then looks again (HX-Trigger-After-Settle)."""
    values = {name: value for name, value in request.GET.items() if value}
    chosen = str(values.get("schedule_type", ""))
    defaults = SCHEDULE_DEFAULTS.get(chosen, SCHEDULE_DEFAULTS[INTERVAL])
    form = JobForm(initial=defaults | values)
    response = render(request, "web/jobs/_schedule_fields.html", {"form": form})
    response["HX-Trigger-After-Settle"] = "schedule-fields"
    return response


@signed_in
@require_GET
def params_fields(request: SignedInRequest) -> HttpResponse:
    """The settings of the kind chosen."""
    kind = request.GET.get("kind", "")
    if kind not in kinds.registry():
        kind = kinds.names()[0]
    context = {
        "params_form": params_form(kind, user=request.user),
        "kind": kind,
        "kind_help": KIND_HELP.get(kind, ""),
    }
    return render(request, "web/jobs/_params_fields.html", context)


@signed_in
@require_GET
def preview(request: SignedInRequest, pk: int | None = None) -> HttpResponse:
    """The next 5 runs of the schedule on the page, in its time zone, or what is wrong.
    Asked as the person types, and it computes: counted against the per-person limit like
    a change (the toast past it)."""
    if hit := limited(request, ("api", "caller")):
        return hit
    job = _job(request, pk) if pk is not None else None
    return render(request, "web/jobs/_preview.html", _preview(request, request.GET, job))


def _preview(request: SignedInRequest, data: Any, job: Job | None) -> dict[str, Any]:
    """The times the schedule in `data` would run at: the rules are the services' (the
    schedule's and time zone's checks, a one-off in the future, a mailing job's shortest
    interval), the times jobs.schedules.upcoming's, as the API's `upcoming_runs`. A job's
    unchanged schedule shows its own next runs (its interval keeps its phase)."""
    if not isinstance(data, QueryDict):
        query = QueryDict(mutable=True)
        for key, value in data.items():
            query.setlist(key, value if isinstance(value, list) else [value])
        data = query
    form = JobForm({name: data.get(name, "") for name in PREVIEW_FIELDS} | _lists(data))
    form.is_valid()
    problems = _problems(form)
    context: dict[str, Any] = {"preview_times": [], "preview_errors": problems, "preview_zone": ""}
    if problems:
        return context
    zone = form.cleaned_data["timezone"]
    current = from_job(job) if job else None
    try:
        schedule = fields_check(schedule=form.schedule(current), timezone=zone)["schedule"]
        if job and job.status == Job.Status.ACTIVE and schedule == current and zone == job.timezone:
            start = job.next_run_at
        else:
            start = first_run(schedule, zone, timezone.now())
        if form.cleaned_data.get("kind"):
            mailing_interval_check(
                owner=request.user,
                kind=form.cleaned_data["kind"],
                schedule=schedule,
                timezone=zone,
                notify_on=form.cleaned_data.get("notify_on") or [],
            )
    except ApplicationError as exc:
        form.show(exc)
        context["preview_errors"] = _problems(form)
        return context
    context["preview_times"] = upcoming(schedule, zone_check(zone), start)
    context["preview_zone"] = zone
    context["preview_words"] = schedule_words(schedule, zone)
    return context


def _lists(data: QueryDict) -> dict[str, list[str]]:
    return {"notify_on": data.getlist("notify_on")}


def _problems(form: JobForm) -> list[str]:
    """The errors of the fields the preview depends on, each with its field's label."""
    lines = [str(error) for error in form.non_field_errors()]
    for name in PREVIEW_FIELDS:
        if name in ("kind", "notify_on"):
            continue  # the page shows these fields' own errors; the times don't need them
        for error in form.errors.get(name, []):
            lines.append(f"{form.fields[name].label}: {error}")
    return lines


# --- a job's page ---------------------------------------------------------------------------------

DETAIL_PARTS = {
    "job-detail": "web/jobs/_detail.html",
    "job-summary": "web/jobs/_summary.html",
    "run-history": "web/jobs/_runs.html",
}


@signed_in
@require_GET
def job_detail_page(request: SignedInRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    template = DETAIL_PARTS.get(htmx_target(request), "web/jobs/detail.html")
    return render(request, template, _detail(request, job))


def _detail(request: SignedInRequest, job: Job) -> dict[str, Any]:
    schedule = from_job(job)
    runs = Paginator(run_list(job=job), PAGE_SIZE).get_page(request.GET.get("page"))
    upcoming_runs = []
    if job.status == Job.Status.ACTIVE:  # as the API's upcoming_runs
        upcoming_runs = upcoming(schedule, zone_check(job.timezone), job.next_run_at)
    return {
        "job": job,
        "schedule": schedule,
        "schedule_words": schedule_words(schedule, job.timezone),
        "kind_label": kind_label(job.kind),
        "params_shown": _params_shown(job.params),
        "notify_shown": [NOTIFY_LABELS[event] for event in job.notify_on if event in NOTIFY_LABELS],
        "upcoming_runs": upcoming_runs,
        "page_obj": runs,
        "runs": runs.object_list,
        "detail_url": reverse("web:job-detail", args=[job.pk]),
        "other_zone": job.timezone != timezone.get_current_timezone_name(),
    }


def _params_shown(params: dict[str, Any]) -> list[tuple[str, str]]:
    """A job's params as lines of its settings (a flag as yes / no)."""
    shown = []
    for key, value in params.items():
        text = ("Yes" if value else "No") if isinstance(value, bool) else str(value)
        shown.append((PARAM_LABELS.get(key, key.replace("_", " ").capitalize()), text))
    return shown


def _act(request: SignedInRequest, pk: int, act, said: str) -> HttpResponse:
    """Do `act` to the job; an htmx caller gets the job's part of the page again with a
    toast, or the service's refusal (409, nothing changed) which app.js toasts."""
    job = _job(request, pk)
    detail = reverse("web:job-detail", args=[job.pk])
    try:
        act(job=job, actor=request.user)
    except ApplicationError as exc:
        if is_htmx(request):
            return render(request, "web/jobs/_refused.html", {"message": exc.message}, status=409)
        messages.error(request, exc.message)
        return redirect(detail)
    if not is_htmx(request):
        messages.success(request, said)
        return redirect(detail)
    response = render(request, "web/jobs/_detail.html", _detail(request, _job(request, pk)))
    return toast(response, said)


@signed_in
@require_POST
def job_pause_action(request: SignedInRequest, pk: int) -> HttpResponse:
    return _act(request, pk, job_pause, "Paused: no more scheduled runs until you resume it.")


@signed_in
@require_POST
def job_resume_action(request: SignedInRequest, pk: int) -> HttpResponse:
    return _act(request, pk, job_resume, "Resumed from its next run.")


@signed_in
@require_POST
def job_run_action(request: SignedInRequest, pk: int) -> HttpResponse:
    return _act(request, pk, job_run_now, "A run is started.")


@signed_in
@require_POST
def job_delete_action(request: SignedInRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    name = job.name
    job_delete(job=job, actor=request.user)
    return done(request, f"“{name}” is deleted.", reverse("web:job-list"))


# --- a schedule in words ----------------------------------------------------------------------

DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
DAYS_OF_WEEK = {
    "*": "Every day",
    "1-5": "Weekdays",
    "mon-fri": "Weekdays",
    "0,6": "Weekends",
    "6,0": "Weekends",
    "sat,sun": "Weekends",
}


def schedule_words(schedule: Schedule, zone: str) -> str:
    """ "Every 15 minutes", "Weekdays at 09:00 (Europe/Berlin)", "Once, Tue 1 Dec 2026 09:00
    (UTC)"; a cron expression with no simpler wording is shown as it is."""
    if schedule.type == ONCE:
        when = schedule.when.astimezone(ZoneInfo(zone))
        return f"Once, {when:%a} {when.day} {when:%b %Y %H:%M} ({zone})"
    if schedule.type == INTERVAL:
        unit = str(schedule.period).removesuffix("s")
        every = schedule.every or 1
        return f"Every {unit}" if every == 1 else f"Every {every} {schedule.period}"
    assert schedule.type == CRON
    return f"{_cron_words(schedule.fields)} ({zone})"


def _cron_words(fields: list[str]) -> str:
    minute, hour, dom, month, dow = fields
    rest_any = dom == month == dow == "*"
    if minute.isdigit() and hour.isdigit():
        at = f"{int(hour):02d}:{int(minute):02d}"
        if dom == "*" and month == "*":
            if dow.lower() in DAYS_OF_WEEK:
                return f"{DAYS_OF_WEEK[dow.lower()]} at {at}"
            if dow.isdigit() and int(dow) <= 7:
                return f"{DAY_NAMES[int(dow) % 7]}s at {at}"
        if dom.isdigit() and month == "*" and dow == "*":
            return f"Monthly on day {int(dom)} at {at}"
    if minute.isdigit() and hour == "*" and rest_any:
        return f"Every hour at :{int(minute):02d}"
    if minute.startswith("*/") and minute[2:].isdigit() and hour == "*" and rest_any:
        return f"Every {int(minute[2:])} minutes"
    if minute == "*" and hour == "*" and rest_any:
        return "Every minute"
    return f"Cron {' '.join(fields)}"


urlpatterns = [
    path("", job_list_page, name="job-list"),
    path("new/", job_create_page, name="job-create"),
    path("preview/", preview, name="job-preview"),
    path("fields/schedule/", schedule_fields, name="job-schedule-fields"),
    path("fields/params/", params_fields, name="job-params-fields"),
    path("<int:pk>/", job_detail_page, name="job-detail"),
    path("<int:pk>/edit/", job_edit_page, name="job-edit"),
    path("<int:pk>/preview/", preview, name="job-edit-preview"),
    path("<int:pk>/pause/", job_pause_action, name="job-pause"),
    path("<int:pk>/resume/", job_resume_action, name="job-resume"),
    path("<int:pk>/run/", job_run_action, name="job-run"),
    path("<int:pk>/delete/", job_delete_action, name="job-delete"),
]

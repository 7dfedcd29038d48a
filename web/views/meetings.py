"""The meetings pages: the list (upcoming, past, all), create and edit, a meeting's page with
its participants' answers, double-bookings, RSVP, remind now and cancel, and the calendar
feed's address.

The same services and selectors as the API (meetings.services / meetings.selectors): the
forms check shapes, the services decide (who may change a meeting, where it must happen).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from meetings.models import Meeting, Participant
from meetings.selectors import (
    meeting_conflicts,
    meeting_conflicts_seen_by,
    meeting_list,
    meetings_upcoming,
)
from meetings.services import (
    feed_token,
    feed_token_rotate,
    meeting_cancel,
    meeting_create,
    meeting_remind,
    meeting_respond,
    meeting_update,
)
from taskplatform.exceptions import ApplicationError

from ..forms.meetings import ANSWERS, MeetingForm, RespondForm
from .base import (
    INVALID,
    PAGE_SIZE,
    SignedInRequest,
    done,
    errors_onto,
    htmx_target,
    is_htmx,
    signed_in,
    toast,
)

SHOWS = {"upcoming": "Upcoming", "past": "Past", "all": "All"}
# an ApplicationError's code as the status a page answers (the API's mapping, for pages)
STATUS_FOR_CODE = {"permission_denied": 403, "not_found": 404, "conflict": 409}
PEOPLE = Prefetch(
    "participants", queryset=Participant.objects.select_related("user").order_by("id")
)


def _mine(request: SignedInRequest, meetings: QuerySet[Meeting] | None = None) -> QuerySet[Meeting]:
    """The meetings the user may see (another's is a 404), with the user's own answer."""
    if meetings is None:
        meetings = meeting_list(user=request.user)
    answer = Participant.objects.filter(meeting=OuterRef("pk"), user=request.user)
    return meetings.select_related("organizer").annotate(
        my_response=Subquery(answer.values("response")[:1])
    )


def _meeting(request: SignedInRequest, meeting_id: int) -> Meeting:
    return get_object_or_404(_mine(request).prefetch_related(PEOPLE), pk=meeting_id)


def _refused(request: SignedInRequest, exc: ApplicationError) -> HttpResponse:
    """A service said no: the page (or, for htmx, the message app.js toasts)."""
    status = STATUS_FOR_CODE.get(exc.code, 400)
    if status == 404:
        raise Http404(exc.message)
    context = {"heading": "That can't be done", "message": exc.message}
    return render(request, "web/meetings/refused.html", context, status=status)


def _feed_context(request: SignedInRequest, secret: str) -> dict[str, Any]:
    address = reverse("calendar-feed", kwargs={"secret": secret})
    return {"feed_url": request.build_absolute_uri(address)}


# --- the list -----------------------------------------------------------------------------


@signed_in
def meeting_list_page(request: SignedInRequest) -> HttpResponse:
    show = request.GET.get("show", "upcoming")
    if show not in SHOWS:
        show = "upcoming"
    now = timezone.now()
    if show == "upcoming":
        meetings = _mine(request, meetings_upcoming(user=request.user, now=now))
    elif show == "past":
        meetings = _mine(request).filter(ends_at__lte=now).order_by("-starts_at", "-id")
    else:
        meetings = _mine(request).order_by("-starts_at", "-id")
    page_obj = Paginator(meetings, PAGE_SIZE).get_page(request.GET.get("page"))
    answers = dict(Participant.Response.choices)
    for meeting in page_obj.object_list:
        meeting.my_answer = answers.get(meeting.my_response, "")
    context = {
        "page_obj": page_obj,
        "meetings": page_obj.object_list,
        "show": show,
        "shows": SHOWS,
        **_feed_context(request, feed_token(user=request.user).secret),
    }
    if htmx_target(request) == "meeting-results":
        return render(request, "web/meetings/_results.html", context)
    return render(request, "web/meetings/list.html", context)


# --- create and edit ----------------------------------------------------------------------


@signed_in
@require_http_methods(["GET", "POST"])
def meeting_create_page(request: SignedInRequest) -> HttpResponse:
    form = MeetingForm(request.POST or None, zone=request.user.timezone)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = meeting_create(organizer=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            errors_onto(form, exc)
        else:
            return _saved(
                request, meeting, "Meeting created: the participants are invited by email."
            )
    status = INVALID if form.errors else 200
    context = {"form": form, "meeting": None}
    return render(request, "web/meetings/form.html", context, status=status)


@signed_in
@require_http_methods(["GET", "POST"])
def meeting_edit_page(request: SignedInRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    if meeting.organizer_id != request.user.pk or meeting.status == Meeting.Status.CANCELLED:
        # the form would only be refused: say why now (the service decides again on POST)
        try:
            meeting_update(meeting=meeting, actor=request.user)
        except ApplicationError as exc:
            return _refused(request, exc)
    initial = MeetingForm.initial_for(meeting)
    form = MeetingForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = meeting_update(meeting=meeting, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            if exc.code in STATUS_FOR_CODE:
                return _refused(request, exc)
            errors_onto(form, exc)
        else:
            return _saved(
                request, meeting, "Meeting saved: participants hear of any change by email."
            )
    status = INVALID if form.errors else 200
    context = {"form": form, "meeting": meeting}
    return render(request, "web/meetings/form.html", context, status=status)


def _saved(request: SignedInRequest, meeting: Meeting, message: str) -> HttpResponse:
    """To the meeting's page, warning at once when someone is double-booked (the page lists
    them, as the API's answer to a create or change does)."""
    to = reverse("web:meeting-detail", args=[meeting.pk])
    if meeting_conflicts(meeting=meeting):
        messages.warning(request, "Some participants are double-booked at that time: see below.")
    return done(request, message, to)


# --- a meeting's page and its actions --------------------------------------------------------


def _detail_context(request: SignedInRequest, meeting: Meeting) -> dict[str, Any]:
    # another's meetings are theirs: how many clash, and only those this user may see named
    counts = {person: len(found) for person, found in meeting_conflicts(meeting=meeting).items()}
    shown = meeting_conflicts_seen_by(meeting=meeting, user=request.user)
    participants = []
    mine = None
    for participant in meeting.participants.all():
        participants.append(
            {
                "participant": participant,
                "conflicts": counts.get(participant.user_id, 0),
                "shown": shown.get(participant.user_id, []),
            }
        )
        if participant.user_id == request.user.pk:
            mine = participant
    scheduled = meeting.status == Meeting.Status.SCHEDULED
    return {
        "meeting": meeting,
        "participants": participants,
        "double_booked": sum(1 for p in participants if p["conflicts"]),
        "mine": mine,
        "answers": ANSWERS,
        "respond_form": RespondForm(initial={"reminder_minutes": mine.reminder_minutes})
        if mine
        else None,
        "is_organizer": meeting.organizer_id == request.user.pk,
        "scheduled": scheduled,
        "over": meeting.ends_at <= timezone.now(),
    }


@signed_in
def meeting_detail_page(request: SignedInRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    context = _detail_context(request, meeting)
    if htmx_target(request) == "meeting-detail":
        return render(request, "web/meetings/_detail.html", context)
    context.update(_feed_context(request, feed_token(user=request.user).secret))
    return render(request, "web/meetings/detail.html", context)


@signed_in
@require_POST
def meeting_respond_page(request: SignedInRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    form = RespondForm(request.POST)
    if form.is_valid():
        reminders = form.cleaned_data["reminder_minutes"]
        try:
            meeting_respond(
                meeting=meeting,
                user=request.user,
                response=form.cleaned_data["response"],
                # a form without the field (a bare button) leaves the reminders as they are
                reminder_minutes=reminders if "reminder_minutes" in request.POST else None,
            )
        except ApplicationError as exc:
            if exc.code in STATUS_FOR_CODE:
                return _refused(request, exc)
            errors_onto(form, exc)
    if form.is_valid():
        answer = dict(Participant.Response.choices)[form.cleaned_data["response"]]
        message = f"Your answer: {answer}."
        if not is_htmx(request):
            messages.success(request, message)
            return redirect("web:meeting-detail", meeting_id=meeting.pk)
        context = _detail_context(request, _meeting(request, meeting_id))
        return toast(render(request, "web/meetings/_participants.html", context), message)
    context = _detail_context(request, meeting)
    context["respond_form"] = form
    return render(request, "web/meetings/_participants.html", context, status=INVALID)


@signed_in
@require_POST
def meeting_remind_page(request: SignedInRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    try:
        queued = meeting_remind(meeting=meeting, actor=request.user, now=timezone.now())
    except ApplicationError as exc:
        return _refused(request, exc)
    message = (
        f"Reminder emailed to {queued} participant{'s' if queued != 1 else ''}."
        if queued
        else "Nobody to remind: everyone else declined."
    )
    if is_htmx(request):
        return toast(HttpResponse(status=204), message)
    messages.success(request, message)
    return redirect("web:meeting-detail", meeting_id=meeting.pk)


@signed_in
@require_POST
def meeting_cancel_page(request: SignedInRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    try:
        meeting_cancel(meeting=meeting, actor=request.user)
    except ApplicationError as exc:
        return _refused(request, exc)
    return done(
        request,
        "Meeting cancelled: the participants are told by email.",
        reverse("web:meeting-detail", args=[meeting.pk]),
    )


@signed_in
@require_POST
def feed_rotate_page(request: SignedInRequest) -> HttpResponse:
    token = feed_token_rotate(user=request.user)
    message = "A new calendar address: the old one no longer works."
    if not is_htmx(request):
        messages.success(request, message)
        return redirect("web:meeting-list")
    response = render(request, "web/meetings/_feed.html", _feed_context(request, token.secret))
    return toast(response, message)


urlpatterns = [
    path("", meeting_list_page, name="meeting-list"),
    path("new/", meeting_create_page, name="meeting-create"),
    path("feed/rotate/", feed_rotate_page, name="meeting-feed-rotate"),
    path("<int:meeting_id>/", meeting_detail_page, name="meeting-detail"),
    path("<int:meeting_id>/edit/", meeting_edit_page, name="meeting-edit"),
    path("<int:meeting_id>/respond/", meeting_respond_page, name="meeting-respond"),
    path("<int:meeting_id>/remind/", meeting_remind_page, name="meeting-remind"),
    path("<int:meeting_id>/cancel/", meeting_cancel_page, name="meeting-cancel"),
]

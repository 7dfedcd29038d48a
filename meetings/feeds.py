"""The calendar feed: `/calendar/<secret>.ics`, read by calendar apps without signing in (the
secret is the key: `GET /api/v1/meetings/feed/` gives the address, `feed/rotate/` a new one)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from .calendar import meetings_ics
from .models import FeedToken
from .selectors import meetings_feed


@require_safe
def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    token = FeedToken.objects.select_related("user").filter(secret=secret).first()
    if token is None or not token.user.is_active:
        raise Http404("No such calendar.")
    body = meetings_ics(
        meetings_feed(user=token.user, now=timezone.now()), name="taskplatform meetings"
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response

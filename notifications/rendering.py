"""Render a notification from templates/email/<kind>.{subject.txt,txt,html}.

The subject and the plain text are rendered without HTML escaping (a task called
`Tom & Jerry <3` is that, not `Tom &amp; Jerry &lt;3`); only the HTML part escapes. Times
show in the recipient's time zone (`User.timezone`): the templates' `local_time` filter
(notifications/templatetags/email_format.py) and Django's `date` filter convert to the zone
rendering runs in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone

from .kinds import Kind
from .unsubscribe_tokens import (
    Subscription,
    has_unsubscribe,
    preferences_url,
    token_make,
    unsubscribe_url,
)

if TYPE_CHECKING:
    from accounts.models import User


class ContextGone(Exception):
    """What a deferred notification was about no longer exists: nothing to send."""


Loaded = dict[str, Any] | ContextGone
# kind -> function([stored context, ...]) -> [template context or ContextGone, ...]; apps
# register theirs in ready()
_context_loaders: dict[str, Callable[[list[dict[str, Any]]], list[Loaded]]] = {}


def register_context_loader(kind: str, loader: Callable[..., Any], *, many: bool = False) -> None:
    """`loader(stored) -> context` (raising ContextGone), or with `many` a loader of a whole
    batch at once: `loader([stored, ...]) -> [context or ContextGone, ...]`, in order."""
    _context_loaders[kind] = loader if many else partial(_one_by_one, loader)


def load_contexts(kind: str, stored: list[dict[str, Any]]) -> list[Loaded]:
    """The template contexts of deferred rows of one kind, loaded together."""
    loader = _context_loaders.get(kind)
    return loader(stored) if loader else list(stored)


def _one_by_one(
    loader: Callable[[dict[str, Any]], dict[str, Any]], stored: list[dict[str, Any]]
) -> list[Loaded]:
    loaded: list[Loaded] = []
    for one in stored:
        try:
            loaded.append(loader(one))
        except ContextGone as gone:
            loaded.append(gone)
    return loaded


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(kind: str, context: dict[str, Any], *, user: User | None = None) -> Rendered:
    """Plain text is always there; HTML shares a base layout (templates/email/base.html),
    whose footer carries the links to unsubscribe and to the preferences page."""
    full = {
        "user": user,
        "name": (user.get_full_name() if user is not None else "") or "there",
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "kind": kind,
        **_links(kind, context, user),
        **context,
    }
    with timezone.override(_zone(user)):
        subject_lines = _render(f"email/{kind}.subject.txt", full, escape=False)
        subject = " ".join(subject_lines.split())[:255]  # one line: headers can't hold newlines
        return Rendered(
            subject=subject,
            text=_render(f"email/{kind}.txt", full, escape=False).strip() + "\n",
            html=_render(f"email/{kind}.html", full, escape=True),
        )


def _render(name: str, context: dict[str, Any], *, escape: bool) -> str:
    # the engine's own Template: its Context says whether to escape, for every template
    # (a subject that forgot {% autoescape off %} can't escape by mistake)
    template = get_template(name).template  # type: ignore[attr-defined]
    return template.render(Context(context, autoescape=escape))


def _zone(user: User | None) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone if user is not None else settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):  # validated on the way in; never fail a mail
        return ZoneInfo("UTC")


def _links(kind: str, context: dict[str, Any], user: User | None) -> dict[str, str]:
    """`unsubscribe_url` (mail that isn't about the account itself) and `preferences_url`,
    one token signed for `user` serving both; none for a mail to an address without an
    account."""
    if user is None or user.pk is None:
        return {}
    if not has_unsubscribe(kind):
        return {"preferences_url": preferences_url(token_make(Subscription(user_id=user.pk)))}
    job = context.get("job")
    job_id = job.get("id") if isinstance(job, dict) else getattr(job, "pk", None)
    token = token_make(
        Subscription(
            user_id=user.pk, kind=Kind(kind), job_id=job_id if isinstance(job_id, int) else None
        )
    )
    return {"preferences_url": preferences_url(token), "unsubscribe_url": unsubscribe_url(token)}

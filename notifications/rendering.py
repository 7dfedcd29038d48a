"""Render a notification from templates/email/<kind>.{subject.txt,txt,html}."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string


class ContextGone(Exception):
    """What a deferred notification was about no longer exists: nothing to send."""


# kind -> function(stored_context) -> template context; apps register theirs in ready()
_context_loaders: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def register_context_loader(kind: str, loader: Callable[[dict[str, Any]], dict[str, Any]]):
    _context_loaders[kind] = loader


def load_context(kind: str, stored: dict[str, Any]) -> dict[str, Any]:
    loader = _context_loaders.get(kind)
    return loader(stored) if loader else stored


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(kind: str, context: dict[str, Any], *, user=None) -> Rendered:
    """Plain text is always there; HTML shares a base layout (templates/email/base.html)."""
    full = {
        "user": user,
        "name": (user.get_full_name() if user is not None else "") or "there",
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "kind": kind,
        **context,
    }
    subject_lines = render_to_string(f"email/{kind}.subject.txt", full)
    subject = " ".join(subject_lines.split())[:255]  # one line: headers can't hold newlines
    return Rendered(
        subject=subject,
        text=render_to_string(f"email/{kind}.txt", full).strip() + "\n",
        html=render_to_string(f"email/{kind}.html", full),
    )

"""One-click unsubscribe (RFC 8058) and the preferences page's reads and writes, by signed token.

What one click turns off depends on the mail it came in (the token names the kind, and the
job for a job's mail):

- a kind with a preference (PREFERENCE_FOR_KIND: task due soon, task assigned, daily
  digest, …): that preference, as `PATCH /api/v1/notifications/preferences/` would;
- a reminder or a task digest, whose email is the job's whole work: the job is paused
  (`job_pause`) — emptying its `notify_on` would not stop it mailing, and deleting it would
  lose it; resuming it takes one call;
- another mail about a job (created, succeeded, failed, paused): the job's `notify_on`
  becomes empty (`job_update`) — the job decides its own mails, and keeps running;
- a mail tied to neither (welcome, the hourly-limit summary): every preference goes off.

A job's mails change through jobs' services, so this module sits above `jobs` in the import
graph, as accounts.services does (notifications' delivery side never imports it: the token
itself is notifications/unsubscribe_tokens.py). Each change is audited
`notifications.unsubscribed`; a click that finds nothing left to turn off changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from audit.services import audit_record
from jobs.models import Job
from jobs.services import job_pause, job_update
from taskplatform.exceptions import ApplicationError

from .kinds import PREFERENCE_FOR_KIND, Kind
from .models import NotificationPreference
from .services import preferences_get, preferences_update
from .unsubscribe_tokens import INVALID, Subscription, token_read

# the job's email is its work: pausing the job is what stops it
JOB_IS_THE_MAIL = frozenset({Kind.REMINDER, Kind.TASK_DIGEST})
ABOUT_A_JOB = frozenset({Kind.JOB_CREATED, Kind.JOB_SUCCEEDED, Kind.JOB_FAILED, Kind.JOB_PAUSED})
EVERY_PREFERENCE = tuple(dict.fromkeys(PREFERENCE_FOR_KIND.values()))


@dataclass(frozen=True)
class Unsubscription:
    """What a link turns off (`description`, in words for the page) and whether one click
    changed anything."""

    user: User
    kind: Kind | None
    description: str
    changed: bool = False


def unsubscribe_describe(*, token: str) -> Unsubscription:
    """What the token's link would turn off (reads only: for the page a GET shows)."""
    subscription = token_read(token)
    user = _user(subscription)
    if subscription.kind is None:
        return Unsubscription(user=user, kind=None, description="")
    job = _job(subscription, user)
    return Unsubscription(
        user=user, kind=subscription.kind, description=_describe(subscription.kind, job)
    )


@transaction.atomic
def unsubscribe_apply(*, token: str) -> Unsubscription:
    """Turn off what the token's mail was (see the module's docstring); audited when it
    changes anything. Clicking twice is harmless."""
    subscription = token_read(token)
    user = _user(subscription)
    kind = subscription.kind
    if kind is None:  # a link to the preferences page, not from a mail's unsubscribe
        raise ApplicationError(INVALID, code="validation_error", details={"token": [INVALID]})
    job = _job(subscription, user)
    target: Job | NotificationPreference | None
    if kind in JOB_IS_THE_MAIL or kind in ABOUT_A_JOB:
        target, changed = job, _job_quiet(job, kind, user)
    else:
        fields = (PREFERENCE_FOR_KIND[kind],) if kind in PREFERENCE_FOR_KIND else EVERY_PREFERENCE
        target, changed = _preferences_off(user, fields)
    if changed:
        audit_record(
            actor=user,
            action="notifications.unsubscribed",
            target=target,
            details={"kind": str(kind), "turned_off": changed, "via": "email link"},
        )
    return Unsubscription(
        user=user, kind=kind, description=_describe(kind, job), changed=bool(changed)
    )


def _user(subscription: Subscription) -> User:
    user = User.objects.filter(pk=subscription.user_id).first()
    if user is None:  # the account was deleted: nothing is sent to it any more either
        raise ApplicationError(INVALID, code="validation_error", details={"token": [INVALID]})
    return user


def _job(subscription: Subscription, user: User) -> Job | None:
    if subscription.job_id is None:
        return None
    return Job.objects.filter(pk=subscription.job_id, owner=user).first()


def _job_quiet(job: Job | None, kind: Kind, user: User) -> str:
    """Pause the job, or empty its notify_on; '' when there is nothing left to turn off (the
    job was deleted, is paused, finished or cancelled already, or mails nothing)."""
    if job is None:
        return ""
    if kind in JOB_IS_THE_MAIL:
        if job.status != Job.Status.ACTIVE:
            return ""
        job_pause(job=job, actor=user)
        return "job"
    if not job.notify_on or job.status == Job.Status.CANCELLED:
        return ""
    job_update(job=job, actor=user, notify_on=[])
    return "job notify_on"


def _preferences_off(user: User, fields: tuple[str, ...]) -> tuple[NotificationPreference, str]:
    preference = preferences_get(user=user)
    on = [field for field in fields if getattr(preference, field)]
    if on:
        preference = preferences_update(user=user, **dict.fromkeys(on, False))
    return preference, ", ".join(on)


def _describe(kind: Kind, job: Job | None) -> str:
    """What the link stops, to complete "Stop getting …?" and "You won't get … any more"."""
    if (kind in JOB_IS_THE_MAIL or kind in ABOUT_A_JOB) and job is None:
        return "emails from a job that no longer exists"
    if kind in JOB_IS_THE_MAIL and job is not None:
        return f"“{kind.label}” emails from your job “{job.name}” (the job is paused)"
    if kind in ABOUT_A_JOB and job is not None:
        return f"emails about the runs of your job “{job.name}”"
    if kind in PREFERENCE_FOR_KIND:
        return f"“{kind.label}” emails"
    return "any of the emails your notification preferences can turn off"

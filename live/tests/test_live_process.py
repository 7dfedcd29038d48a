"""The live process for real: `python -m live` (uvicorn + Channels) on the test database,
and WebSocket clients (the websockets library). On the embedded default the process reads
new events from the database; with REDIS_URL, publishers push them through channels-redis.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosed, InvalidStatus

from accounts.tests.factories import UserFactory
from jobs.runner import run_execute
from jobs.tests.factories import JobFactory, JobRunFactory
from live.models import LiveEvent
from meetings.services import meeting_create, meeting_update
from tasks.models import Task
from tasks.services import task_create, task_delete, task_update

from .conftest import nothing_more, receive, receive_event

pytestmark = pytest.mark.e2e


def token(user) -> str:
    return str(AccessToken.for_user(user))


def closed_with(ws) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_a_token_signs_in_and_task_events_arrive(live_process):
    ada = UserFactory.create()
    with live_process.connect(token=token(ada)) as ws:
        hello = receive(ws)
        assert hello["type"] == "live.hello"
        task = task_create(owner=ada, title="Write the report")
        created = receive_event(ws)
        assert created["type"] == "task.created"
        assert created["object_type"] == "task" and created["object_id"] == task.pk
        assert created["data"]["title"] == "Write the report"
        assert created["id"] > hello["last_id"]
        task_update(task=task, actor=ada, status=Task.Status.DONE)
        updated = receive_event(ws)
        assert updated["type"] == "task.updated"
        assert updated["data"]["status"] == "done" and updated["data"]["changed"] == ["status"]
        task_delete(task=task, actor=ada)
        assert receive_event(ws)["type"] == "task.deleted"


def test_the_web_session_signs_in(live_process):
    ada = UserFactory.create()
    browser = Client()
    browser.force_login(ada)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    origin = "http://127.0.0.1:8000"  # the web page's origin: another port, same host
    with live_process.connect(headers={"Cookie": cookie, "Origin": origin}) as ws:
        assert receive(ws)["type"] == "live.hello"
        task_create(owner=ada, title="From the browser")
        assert receive_event(ws)["data"]["title"] == "From the browser"


def test_signing_out_closes_that_sessions_connections_only(live_process):
    ada = UserFactory.create()
    left, kept = Client(), Client()
    left.force_login(ada)
    kept.force_login(ada)
    origin = "http://127.0.0.1:8000"

    def connect(browser):
        cookie = f"sessionid={browser.cookies['sessionid'].value}"
        return live_process.connect(headers={"Cookie": cookie, "Origin": origin})

    with connect(left) as gone, connect(kept) as stays:
        assert receive(gone)["type"] == receive(stays)["type"] == "live.hello"
        assert left.post("/app/logout/").status_code == 302
        assert closed_with(gone) == (4401, "Signed out.")
        assert receive_event(stays)["type"] == "session.ended"  # another session's
        task_create(owner=ada, title="Still heard")
        assert receive_event(stays)["data"]["title"] == "Still heard"


def test_a_browser_sends_its_token_as_a_subprotocol(live_process):
    ada = UserFactory.create()
    protocols = ["taskplatform.live", f"bearer.{token(ada)}"]
    with live_process.connect(subprotocols=protocols) as ws:
        assert ws.subprotocol == "taskplatform.live"  # never the token echoed
        assert receive(ws)["type"] == "live.hello"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "Sign in first"),
        ({"Authorization": "Bearer not-a-token"}, "Invalid or expired token"),
        ({"Cookie": "sessionid=forged"}, "Sign in first"),
    ],
    ids=["anonymous", "bad-token", "bad-session"],
)
def test_without_valid_credentials_it_closes_with_4401(live_process, headers, reason):
    with live_process.connect(headers=headers) as ws:
        code, text = closed_with(ws)
    assert code == 4401 and text.startswith(reason)


def test_an_expired_token_is_refused(live_process):
    ada = UserFactory.create()
    expired = AccessToken.for_user(ada)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    with live_process.connect(token=str(expired)) as ws:
        assert closed_with(ws) == (4401, "Invalid or expired token.")


def test_private_events_reach_only_their_people_and_public_ones_everyone(live_process):
    ada, grace, eve = UserFactory.create_batch(3)
    with (
        live_process.connect(token=token(ada)) as ada_ws,
        live_process.connect(token=token(grace)) as grace_ws,
        live_process.connect(token=token(eve)) as eve_ws,
    ):
        for ws in (ada_ws, grace_ws, eve_ws):
            receive(ws)
        task_create(owner=ada, title="Private, for Grace", assignee=grace)
        assert receive_event(ada_ws)["data"]["title"] == "Private, for Grace"
        assert receive_event(grace_ws, object_type="task")["data"]["title"] == "Private, for Grace"
        task_create(owner=ada, title="Public", visibility=Task.Visibility.PUBLIC)
        # eve's first event is the public task: the private one never came
        first = receive_event(eve_ws)
        assert first["data"].get("title") == "Public", first
        assert receive_event(ada_ws)["data"]["title"] == "Public"
        # (grace also hears that the "assigned to you" email went out)
        assert receive_event(grace_ws, object_type="task")["data"]["title"] == "Public"
        assert nothing_more(eve_ws)


def test_a_client_that_resumes_gets_exactly_what_it_missed(live_process):
    ada, eve = UserFactory.create_batch(2)
    with live_process.connect(token=token(ada)) as ws:
        last_id = receive(ws)["last_id"]
        task_create(owner=ada, title="Seen")
        last_id = receive_event(ws)["id"]
    # away: two of ada's events and one of eve's
    task_create(owner=ada, title="Missed 1")
    task_create(owner=eve, title="Not hers")
    task_create(owner=ada, title="Missed 2")
    with live_process.connect(f"?last_id={last_id}", token=token(ada)) as ws:
        replayed = [receive(ws) for _ in range(3)]
        assert [m.get("data", {}).get("title") for m in replayed[:2]] == ["Missed 1", "Missed 2"]
        assert replayed[2]["type"] == "live.hello"
        assert replayed[2]["last_id"] == replayed[1]["id"]
        task_create(owner=ada, title="Live again")
        assert receive_event(ws)["data"]["title"] == "Live again"  # no duplicate before it
        assert nothing_more(ws)


def test_an_event_no_push_brought_still_arrives_once(live_process):
    """A push lost (Redis down a moment, a publisher killed after its commit): the live
    process's catch-up read of the table (LIVE_CATCHUP_SECONDS) delivers it; an event that
    was pushed too is not sent twice."""
    ada = UserFactory.create()
    with live_process.connect(token=token(ada)) as ws:
        receive(ws)  # hello
        lost = LiveEvent.objects.create(
            audience=ada.pk, type="task.updated", object_type="task", object_id=1, data={}
        )
        task_create(owner=ada, title="Pushed")
        got = [receive_event(ws, timeout=10), receive_event(ws, timeout=10)]
        assert lost.pk in {m["id"] for m in got}
        assert {m["type"] for m in got} == {"task.updated", "task.created"}
        assert nothing_more(ws, wait=2.0)  # the catch-up found "Pushed" too: dropped


def test_a_client_too_far_behind_is_told_to_reload(live_process, settings):
    ada = UserFactory.create()
    with live_process.connect("?last_id=0", token=token(ada)) as ws:
        assert receive(ws)["type"] == "live.hello"  # nothing missed yet
    LiveEvent.objects.create(audience=ada.pk, type="x.y", object_type="x", object_id=1)
    first = LiveEvent.objects.latest("id").pk
    LiveEvent.objects.filter(pk=first).delete()  # pruned
    LiveEvent.objects.create(audience=ada.pk, type="x.y", object_type="x", object_id=2)
    with live_process.connect(f"?last_id={first - 1}", token=token(ada)) as ws:
        message = receive(ws)
        assert message == {"type": "live.resync", "last_id": LiveEvent.objects.latest("id").pk}


def test_a_job_run_and_its_email_arrive(live_process):
    ada = UserFactory.create()
    job = JobFactory.create(owner=ada, kind="reminder", params={"message": "Stand up"})
    run = JobRunFactory.create(job=job)
    with live_process.connect(token=token(ada)) as ws:
        receive(ws)
        run_execute(run_id=run.pk)
        events = {m["type"]: m for m in (receive_event(ws), receive_event(ws))}
    assert events["run.finished"]["data"]["status"] == "succeeded"
    assert events["run.finished"]["data"]["job_id"] == job.pk
    assert events["notification.sent"]["data"]["kind"] == "reminder"


def test_meeting_changes_reach_organizer_and_participants(live_process):
    ada, grace, eve = UserFactory.create_batch(3)
    starts = timezone.now() + timedelta(days=1)
    with (
        live_process.connect(token=token(grace)) as grace_ws,
        live_process.connect(token=token(eve)) as eve_ws,
    ):
        receive(grace_ws), receive(eve_ws)
        meeting = meeting_create(
            organizer=ada,
            title="Planning",
            type="virtual",
            url="https://meet.example.com/p",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            participant_emails=[grace.email],
        )
        assert receive_event(grace_ws, object_type="meeting")["type"] == "meeting.created"
        meeting_update(meeting=meeting, actor=ada, title="Planning, moved")
        updated = receive_event(grace_ws, object_type="meeting")
        assert updated["type"] == "meeting.updated"
        assert updated["data"]["title"] == "Planning, moved"
        assert nothing_more(eve_ws)


def test_a_plain_http_request_to_ws_is_refused(live_process):
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus):
        connect(live_process.url.replace("/ws/", "/nope/"), open_timeout=5)

from __future__ import annotations

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from notifications.models import NotificationPreference

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"
PREFS = f"{URL}preferences/"
DEFAULTS = {
    "job_created": False,
    "job_succeeded": False,
    "job_failed": True,
    "task_due_soon": True,
    "task_assigned": True,
    "daily_digest": False,
    "digest_hour": 9,
    "digest_when_empty": False,
}


def test_history_lists_only_my_notifications(user_client, staff_client, user, other_user):
    mine = NotificationFactory(user=user)
    NotificationFactory(user=other_user)
    body = user_client.get(URL).json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert set(body["results"][0]) == {
        "id",
        "kind",
        "subject",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "error",
    }
    assert staff_client.get(URL).json()["count"] == 0  # a mailbox is personal, staff too


def test_history_filters_by_status_and_kind(user_client, user):
    sent = NotificationFactory(user=user, status="sent", kind="welcome")
    failed = NotificationFactory(user=user, status="failed")
    assert [r["id"] for r in user_client.get(URL, {"status": "failed"}).json()["results"]] == [
        failed.pk
    ]
    ids = {r["id"] for r in user_client.get(URL, {"status": "sent,failed"}).json()["results"]}
    assert ids == {sent.pk, failed.pk}
    assert [r["id"] for r in user_client.get(URL, {"kind": "welcome"}).json()["results"]] == [
        sent.pk
    ]
    assert user_client.get(URL, {"status": "nope"}).status_code == 400


def test_detail_trio(user_client, other_client, staff_client, user):
    notification = NotificationFactory(user=user)
    assert user_client.get(f"{URL}{notification.pk}/").status_code == 200
    assert other_client.get(f"{URL}{notification.pk}/").status_code == 404
    assert staff_client.get(f"{URL}{notification.pk}/").status_code == 404


def test_the_list_runs_a_constant_number_of_queries(
    user_client, user, django_assert_max_num_queries
):
    NotificationFactory(user=user)
    with django_assert_max_num_queries(3):
        user_client.get(URL)
    for _ in range(49):
        NotificationFactory(user=user)
    with django_assert_max_num_queries(3):
        assert len(user_client.get(URL, {"page_size": 50}).json()["results"]) == 50


def test_preferences_have_sensible_defaults(user_client):
    assert user_client.get(PREFS).json() == DEFAULTS


def test_put_replaces_preferences_and_audits(user_client, user):
    wanted = {**DEFAULTS, "job_succeeded": True, "daily_digest": True, "digest_hour": 7}
    response = user_client.put(PREFS, wanted, format="json")
    assert response.status_code == 200 and response.json() == wanted
    assert user_client.get(PREFS).json() == wanted
    event = AuditEvent.objects.get(action="notifications.preferences_updated")
    assert event.details["changed"]["digest_hour"] == 7


def test_a_put_from_before_task_assigned_existed_leaves_it_as_it_is(user_client):
    old_client_body = {k: v for k, v in DEFAULTS.items() if k != "task_assigned"}
    user_client.patch(PREFS, {"task_assigned": False}, format="json")
    response = user_client.put(PREFS, old_client_body, format="json")
    assert response.status_code == 200 and response.json()["task_assigned"] is False


def test_patch_changes_some_fields(user_client):
    assert user_client.patch(PREFS, {"job_failed": False}, format="json").json() == {
        **DEFAULTS,
        "job_failed": False,
    }


@pytest.mark.parametrize(
    "body",
    [{"digest_hour": 24}, {"digest_hour": -1}, {"job_failed": "maybe"}, {"digest_hour": 10**30}],
)
def test_bad_preferences_are_400_and_change_nothing(user_client, body):
    response = user_client.patch(PREFS, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert user_client.get(PREFS).json() == DEFAULTS


def test_put_needs_every_field(user_client):
    assert user_client.put(PREFS, {"job_failed": False}, format="json").status_code == 400


def test_preferences_are_per_user(user_client, other_client):
    user_client.patch(PREFS, {"daily_digest": True}, format="json")
    assert other_client.get(PREFS).json()["daily_digest"] is False


def test_anonymous_gets_401(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.get(PREFS).status_code == 401


def test_changing_the_digest_hour_has_the_planner_work_out_the_next_one_anew(user_client, user):
    user_client.patch(PREFS, {"daily_digest": True}, format="json")
    NotificationPreference.objects.filter(user=user).update(digest_due_at=timezone.now())
    response = user_client.patch(
        PREFS, {"digest_hour": 7, "digest_when_empty": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["digest_when_empty"] is True
    assert NotificationPreference.objects.get(user=user).digest_due_at is None

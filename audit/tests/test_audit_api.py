from __future__ import annotations

import pytest

from audit.services import audit_record

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-events/"


@pytest.fixture
def events(user, other_user):
    return {
        "mine": audit_record(actor=user, action="user.login", target=user),
        "theirs": audit_record(actor=other_user, action="user.logout", target=other_user),
        "system": audit_record(action="user.login_failed", details={"email": "x@example.com"}),
    }


def ids(response):
    return {row["id"] for row in response.json()["results"]}


def test_a_user_sees_only_the_events_they_caused(user_client, events):
    response = user_client.get(URL)
    assert response.status_code == 200
    assert ids(response) == {events["mine"].pk}
    row = response.json()["results"][0]
    assert row["action"] == "user.login" and row["actor_email"] == user_client.user.email


def test_staff_see_every_event(staff_client, events):
    assert ids(staff_client.get(URL)) == {e.pk for e in events.values()}


def test_detail_trio_owner_other_staff(user_client, other_client, staff_client, events):
    url = f"{URL}{events['mine'].pk}/"
    assert user_client.get(url).status_code == 200
    other = other_client.get(url)
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    assert staff_client.get(url).status_code == 200


def test_filters(staff_client, events, user):
    assert ids(staff_client.get(URL, {"action": "user.logout"})) == {events["theirs"].pk}
    assert ids(staff_client.get(URL, {"actor": user.pk})) == {events["mine"].pk}
    assert ids(staff_client.get(URL, {"target_type": "accounts.user", "target_id": user.pk})) == {
        events["mine"].pk
    }
    since = events["mine"].created_at.isoformat()
    assert events["mine"].pk in ids(staff_client.get(URL, {"since": since}))
    assert ids(staff_client.get(URL, {"until": since})) == set()


@pytest.mark.parametrize(
    "params",
    [{"since": "yesterday"}, {"actor": "abc"}, {"action": "x\x00y"}],
)
def test_bad_filters_get_400(staff_client, events, params):
    response = staff_client.get(URL, params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_it_is_read_only(staff_client, events):
    assert staff_client.post(URL, {"action": "x"}, format="json").status_code == 405
    url = f"{URL}{events['mine'].pk}/"
    assert staff_client.delete(url).status_code == 405
    assert staff_client.patch(url, {"action": "x"}, format="json").status_code == 405


def test_anonymous_gets_401(api_client):
    assert api_client.get(URL).status_code == 401


def test_the_list_runs_a_constant_number_of_queries(
    staff_client, user, django_assert_max_num_queries
):
    audit_record(actor=user, action="user.login")
    with django_assert_max_num_queries(4):
        staff_client.get(URL)
    for _ in range(50):
        audit_record(actor=user, action="user.login")
    with django_assert_max_num_queries(4):
        assert len(staff_client.get(URL, {"page_size": 100}).json()["results"]) == 51


@pytest.mark.parametrize(
    "params",
    [
        {"since": "0523-08-23T18:22:36-19:25"},
        {"until": "0001-01-01T00:00:00+05:00"},
        {"actor": str(2**70)},
    ],
)
def test_values_the_database_cannot_hold_are_400_or_harmless(staff_client, events, params):
    response = staff_client.get(URL, params)
    assert response.status_code in (200, 400)


def test_a_huge_id_in_the_path_is_a_404(staff_client):
    response = staff_client.get(f"{URL}{'9' * 30}/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"

"""The tasks pages: the list (search, filters, order, pages, htmx partial), a task's page and
its actions (status, assignee, attachments), creating, editing, deleting; who sees what."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from files.models import StoredFile
from files.tests.factories import StoredFileFactory
from taskplatform.testing import stored_blobs
from tasks.models import Priority, Task
from tasks.tests.factories import TagFactory, TaskFactory

from .pages import HTMX, signed_in_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
LIST = "/app/tasks/"


@pytest.fixture
def owner() -> User:
    return UserFactory(email="owner@example.com", full_name="Olive Owner", timezone="Europe/Paris")


@pytest.fixture
def stranger() -> User:
    return UserFactory(email="stranger@example.com", full_name="Sam Stranger")


@pytest.fixture
def client(owner) -> Client:
    return signed_in_client(owner)


def titles(response) -> list[str]:
    """The task titles a list page shows, in order."""
    html = response.content.decode()
    found = []
    for chunk in html.split('<tr id="task-')[1:]:
        link = chunk.split("</a>", 1)[0]
        found.append(link.rsplit(">", 1)[-1])
    return found


# --- who may see the pages --------------------------------------------------------------------


@pytest.mark.parametrize("path", [LIST, "/app/tasks/new/", "/app/tasks/1/", "/app/tasks/1/edit/"])
def test_an_anonymous_visitor_is_sent_to_sign_in(path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/app/login/?next=")


def test_the_list_shows_what_the_person_may_see(owner, stranger, client):
    TaskFactory(owner=owner, title="Mine")
    TaskFactory(owner=stranger, title="Assigned to me", assignee=owner)
    TaskFactory(owner=stranger, title="Public", visibility="public")
    TaskFactory(owner=stranger, title="Their secret")
    response = client.get(LIST)
    assert response.status_code == 200
    assert sorted(titles(response)) == ["Assigned to me", "Mine", "Public"]
    assert b'aria-current="page"' in response.content  # the nav's Tasks link


def test_another_persons_private_task_is_a_404_everywhere(owner, stranger):
    task = TaskFactory(owner=owner, title="Secret")
    other = signed_in_client(stranger)
    assert other.get(f"/app/tasks/{task.pk}/").status_code == 404
    assert other.get(f"/app/tasks/{task.pk}/edit/").status_code == 404
    assert other.post(f"/app/tasks/{task.pk}/edit/", {"title": "x"}).status_code == 404
    assert other.post(f"/app/tasks/{task.pk}/delete/").status_code == 404
    assert other.post(f"/app/tasks/{task.pk}/status/", {"status": "done"}).status_code == 404
    assert other.post(f"/app/tasks/{task.pk}/assign/", {"assignee": ""}).status_code == 404
    task.refresh_from_db()
    assert task.title == "Secret" and task.status == "todo"
    assert other.get("/app/tasks/999999999999999999/").status_code == 404


def test_a_public_task_shows_to_others_without_its_controls(owner, stranger):
    task = TaskFactory(owner=owner, title="Open", visibility="public")
    response = signed_in_client(stranger).get(f"/app/tasks/{task.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Open</h1>" in html
    assert "Olive Owner" in html and "owner@example.com" not in html  # no one else's address
    assert "/edit/" not in html and "Change status" not in html and "Attach file" not in html


# --- the list: search, filters, order, pages, htmx --------------------------------------------


def test_search_looks_in_titles_and_descriptions(owner, client):
    TaskFactory(owner=owner, title="Buy milk")
    TaskFactory(owner=owner, title="Call Bob", description="about the MILK run")
    TaskFactory(owner=owner, title="Other")
    assert sorted(titles(client.get(LIST, {"search": "milk"}))) == ["Buy milk", "Call Bob"]


def test_the_filters_narrow_the_list(owner, stranger, client):
    now = timezone.now()
    late = TaskFactory(owner=owner, title="Late", due_at=now - timedelta(days=1))
    TaskFactory(owner=owner, title="Done late", due_at=now - timedelta(days=1), status="done")
    urgent = TaskFactory(owner=owner, title="Urgent", priority=Priority.CRITICAL)
    urgent.tags.add(TagFactory(owner=owner, name="Home"))
    TaskFactory(owner=stranger, title="Theirs for me", assignee=owner, status="blocked")
    TaskFactory(owner=stranger, title="Public", visibility="public", due_at=now + timedelta(days=9))
    assert titles(client.get(LIST, {"overdue": "on"})) == [late.title]
    assert titles(client.get(LIST, {"priority": "critical"})) == ["Urgent"]
    assert titles(client.get(LIST, {"tag": "home"})) == ["Urgent"]
    assert titles(client.get(LIST, {"status": "blocked"})) == ["Theirs for me"]
    assert titles(client.get(LIST, {"mine": "assignee"})) == ["Theirs for me"]
    assert "Public" not in titles(client.get(LIST, {"mine": "owner"}))
    in_a_week = (now + timedelta(days=7)).date().isoformat()
    assert titles(client.get(LIST, {"due_after": in_a_week})) == ["Public"]
    assert sorted(titles(client.get(LIST, {"due_before": now.date().isoformat()}))) == [
        "Done late",
        "Late",
    ]


def test_due_days_are_the_persons_own(owner, client):
    # 23:30 UTC on 1 March is already 2 March in Paris
    TaskFactory(owner=owner, title="Late night", due_at=datetime(2030, 3, 1, 23, 30, tzinfo=UTC))
    assert titles(client.get(LIST, {"due_after": "2030-03-02", "due_before": "2030-03-02"})) == [
        "Late night"
    ]
    assert titles(client.get(LIST, {"due_before": "2030-03-01"})) == []


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("title", ["a", "b", "c"]),
        ("-title", ["c", "b", "a"]),
        ("due_at", ["b", "a", "c"]),  # no due date last
        ("-due_at", ["a", "b", "c"]),
        ("-priority", ["c", "a", "b"]),
        ("created_at", ["a", "b", "c"]),
        ("-created_at", ["c", "b", "a"]),
    ],
)
def test_the_list_sorts(owner, client, ordering, expected):
    now = timezone.now()
    TaskFactory(owner=owner, title="a", due_at=now + timedelta(days=2), priority=Priority.MEDIUM)
    TaskFactory(owner=owner, title="b", due_at=now + timedelta(days=1), priority=Priority.LOW)
    TaskFactory(owner=owner, title="c", priority=Priority.HIGH)
    assert titles(client.get(LIST, {"ordering": ordering})) == expected


@pytest.mark.parametrize(
    "query",
    [
        {"status": "nope"},
        {"priority": "urgent"},
        {"ordering": "owner__password"},
        {"due_after": "not a date"},
        {"due_after": "0001-01-01"},
        {"due_after": "2030-02-02", "due_before": "2030-02-01"},
        {"search": "x" * 201},
    ],
)
def test_bad_filters_are_a_422_with_the_reason(owner, client, query):
    TaskFactory(owner=owner, title="Mine")
    response = client.get(LIST, query)
    assert response.status_code == 422
    assert b"Check the filters" in response.content and titles(response) == []


def test_the_list_is_paged(owner, client):
    for n in range(25):
        TaskFactory(owner=owner, title=f"t{n:02}")
    first = client.get(LIST, {"ordering": "title"})
    assert titles(first) == [f"t{n:02}" for n in range(20)]
    assert b'rel="next"' in first.content and b"page=2" in first.content
    second = client.get(LIST, {"ordering": "title", "page": "2"})
    assert titles(second) == [f"t{n:02}" for n in range(20, 25)]
    assert titles(client.get(LIST, {"ordering": "title", "page": "99"})) == titles(second)


def test_htmx_targeting_the_results_gets_them_alone(owner, client):
    TaskFactory(owner=owner, title="Mine")
    response = client.get(LIST, {"search": "mi"}, headers={**HTMX, "HX-Target": "task-results"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert titles(response) == ["Mine"]
    # refreshed on live task events, from the same address (the filters kept)
    assert 'hx-trigger="live:task from:body"' in html
    assert 'hx-get="/app/tasks/?search=mi"' in html
    whole = client.get(LIST, headers={**HTMX, "HX-Target": "main"})
    assert b"<html" in whole.content


def test_the_filter_form_works_with_htmx_and_without(client):
    html = client.get(LIST).content.decode()
    assert 'method="get" action="/app/tasks/"' in html
    assert 'hx-trigger="submit, input changed delay:300ms, change"' in html
    assert 'hx-push-url="true"' in html and 'hx-target="#task-results"' in html
    for name in ("search", "status", "priority", "tag", "mine", "due_after", "overdue"):
        assert f'<label for="filter_{name}"' in html


@pytest.mark.parametrize("rows", [1, 50])
def test_the_list_takes_the_same_queries_for_1_or_50_tasks(
    owner, stranger, client, django_assert_max_num_queries, rows
):
    for n in range(rows):
        task = TaskFactory(owner=owner, assignee=stranger, visibility="public")
        task.tags.add(TagFactory(owner=owner, name=f"tag{n}"))
        task.attachments.add(StoredFileFactory(owner=owner))
    # session, user, count, page, people + tags + attachments
    with django_assert_max_num_queries(5):
        response = client.get(LIST)
    assert len(titles(response)) == min(rows, 20)


# --- a task's page and its actions ------------------------------------------------------------


def test_the_detail_page_shows_the_task_in_the_persons_zone(owner, client):
    task = TaskFactory(
        owner=owner,
        title="Pay rent",
        description="Before noon",
        due_at=datetime(2030, 1, 15, 9, 0, tzinfo=UTC),
    )
    task.tags.add(TagFactory(owner=owner, name="money"))
    html = client.get(f"/app/tasks/{task.pk}/").content.decode()
    assert "<h1>Pay rent</h1>" in html and "Before noon" in html and "money" in html
    assert 'datetime="2030-01-15T10:00:00+01:00"' in html  # Paris
    assert "Tuesday 15 January 2030, 10:00" in html


def test_creating_a_task(owner, stranger, client):
    response = client.post(
        "/app/tasks/new/",
        {
            "title": "Write report",
            "description": "Q3",
            "status": "in_progress",
            "priority": "high",
            "due_at": "2030-06-01T17:30",
            "tags": "work, Urgent , work",
            "visibility": "public",
            "assignee": "STRANGER@example.com",
        },
    )
    task = Task.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/app/tasks/{task.pk}/"
    assert (task.title, task.status, task.priority, task.visibility) == (
        "Write report",
        "in_progress",
        Priority.HIGH,
        "public",
    )
    assert task.due_at == datetime(2030, 6, 1, 15, 30, tzinfo=UTC)  # 17:30 in Paris
    assert sorted(t.name for t in task.tags.all()) == ["Urgent", "work"]
    assert task.assignee == stranger and task.owner == owner
    assert AuditEvent.objects.filter(action="task.created", actor=owner).exists()
    assert AuditEvent.objects.filter(action="task.assigned").exists()


def test_creating_with_htmx_loads_the_new_page(client):
    response = client.post("/app/tasks/new/", {"title": "T", **DEFAULTS}, headers=HTMX)
    assert response.status_code == 204
    assert response["HX-Location"] == f"/app/tasks/{Task.objects.get().pk}/"


DEFAULTS = {"status": "todo", "priority": "medium", "visibility": "private"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "T", "due_at": "tomorrow"}, "due_at"),
        ({"title": "T", "due_at": "0001-01-01T00:00"}, "due_at"),
        ({"title": "T", "priority": "urgent"}, "priority"),
        ({"title": "T", "assignee": "nobody@example.com"}, "assignee"),
        ({"title": "T", "tags": ",".join(f"t{n}" for n in range(21))}, "tags"),
        ({"title": "T", "tags": "x" * 51}, "tags"),
        ({"title": "T\x00"}, "title"),
    ],
)
def test_bad_input_shows_the_form_again_and_creates_nothing(client, data, field):
    response = client.post("/app/tasks/new/", {**DEFAULTS, **data})
    assert response.status_code == 422
    assert f'id="id_{field}_error"'.encode() in response.content or (
        b'aria-invalid="true"' in response.content
    )
    assert not Task.objects.exists()


def test_editing_a_task(owner, client):
    task = TaskFactory(owner=owner, title="Old", due_at=datetime(2030, 1, 1, 8, 0, tzinfo=UTC))
    task.tags.add(TagFactory(owner=owner, name="keep"))
    form = client.get(f"/app/tasks/{task.pk}/edit/").content.decode()
    assert 'value="Old"' in form and 'value="2030-01-01T09:00"' in form and 'value="keep"' in form
    assert 'name="assignee"' not in form  # the detail page's assign form does that
    response = client.post(
        f"/app/tasks/{task.pk}/edit/",
        {**DEFAULTS, "title": "New", "due_at": "", "tags": "keep, more", "priority": "low"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.due_at, task.priority) == ("New", None, Priority.LOW)
    assert sorted(t.name for t in task.tags.all()) == ["keep", "more"]
    event = AuditEvent.objects.get(action="task.updated")
    assert set(event.details["changed"]) == {"title", "due_at", "priority", "tags"}


def test_only_the_owner_edits_what_others_see(owner, stranger):
    task = TaskFactory(owner=owner, title="Open", visibility="public")
    response = signed_in_client(stranger).post(
        f"/app/tasks/{task.pk}/edit/", {**DEFAULTS, "title": "X"}
    )
    assert response.status_code == 422
    assert b"Only the owner can change this task" in response.content
    task.refresh_from_db()
    assert task.title == "Open"


def test_deleting_a_task_by_post_only(owner, stranger, client):
    task = TaskFactory(owner=owner)
    assert client.get(f"/app/tasks/{task.pk}/delete/").status_code == 405
    public = TaskFactory(owner=owner, visibility="public")
    refused = signed_in_client(stranger).post(f"/app/tasks/{public.pk}/delete/", headers=HTMX)
    assert refused.status_code == 422 and "toast" in refused["HX-Trigger"]
    assert Task.objects.filter(pk=public.pk).exists()
    response = client.post(f"/app/tasks/{task.pk}/delete/", headers=HTMX)
    assert response.status_code == 204 and response["HX-Location"] == LIST
    assert not Task.objects.filter(pk=task.pk).exists()
    assert AuditEvent.objects.filter(action="task.deleted", actor=owner).exists()


def test_the_assignee_changes_the_status_in_place(owner, stranger):
    task = TaskFactory(owner=owner, assignee=stranger)
    other = signed_in_client(stranger)
    page = other.get(f"/app/tasks/{task.pk}/").content.decode()
    assert "Change status" in page and "/edit/" not in page
    response = other.post(f"/app/tasks/{task.pk}/status/", {"status": "done"}, headers=HTMX)
    assert response.status_code == 200
    assert '"Status: Done."' in response["HX-Trigger"]
    assert 'id="task-detail"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == "done" and task.completed_at is not None
    assert AuditEvent.objects.filter(action="task.updated", actor=stranger).exists()


def test_a_plain_status_form_redirects_back(owner, client):
    task = TaskFactory(owner=owner)
    response = client.post(f"/app/tasks/{task.pk}/status/", {"status": "blocked"})
    assert response.status_code == 302 and response["Location"] == f"/app/tasks/{task.pk}/"
    assert Task.objects.get(pk=task.pk).status == "blocked"


def test_a_bad_status_is_a_422(owner, client):
    task = TaskFactory(owner=owner)
    response = client.post(f"/app/tasks/{task.pk}/status/", {"status": "later"}, headers=HTMX)
    assert response.status_code == 422 and b"Select a valid choice" in response.content
    assert Task.objects.get(pk=task.pk).status == "todo"


def test_assigning_by_email_and_unassigning(owner, stranger, client):
    task = TaskFactory(owner=owner)
    url = f"/app/tasks/{task.pk}/assign/"
    unknown = client.post(url, {"assignee": "ghost@example.com"}, headers=HTMX)
    assert unknown.status_code == 422 and b"No active user" in unknown.content
    assert Task.objects.get(pk=task.pk).assignee is None
    response = client.post(url, {"assignee": "Stranger@Example.com"}, headers=HTMX)
    assert response.status_code == 200 and "Sam Stranger" in response.content.decode()
    assert Task.objects.get(pk=task.pk).assignee == stranger
    client.post(url, {"assignee": ""}, headers=HTMX)
    assert Task.objects.get(pk=task.pk).assignee is None
    actions = [e.action for e in AuditEvent.objects.order_by("id")]
    assert actions.index("task.assigned") < actions.index("task.unassigned")


def test_the_assignee_cannot_reassign(owner, stranger):
    task = TaskFactory(owner=owner, assignee=stranger)
    response = signed_in_client(stranger).post(
        f"/app/tasks/{task.pk}/assign/", {"assignee": "owner@example.com"}
    )
    assert response.status_code == 422
    assert Task.objects.get(pk=task.pk).assignee == stranger


# --- attachments ------------------------------------------------------------------------------


def csrf_client(user: User) -> tuple[Client, str]:
    client = signed_in_client(user, enforce_csrf_checks=True)
    client.get(LIST)
    return client, client.cookies["csrftoken"].value


def test_uploading_an_attachment_streams_hashes_and_lists_it(owner, media):
    task = TaskFactory(owner=owner)
    client, token = csrf_client(owner)
    content = b"minutes of the meeting\n"
    response = client.post(
        f"/app/tasks/{task.pk}/attachments/",
        {"file": SimpleUploadedFile("notes.txt", content)},
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert response.status_code == 200, response.content[:500]
    stored = task.attachments.get()
    assert stored.sha256 == hashlib.sha256(content).hexdigest() and stored.owner == owner
    assert '"Attached notes.txt."' in response["HX-Trigger"]
    assert f'data-sha256="{stored.sha256}"' in response.content.decode()
    assert AuditEvent.objects.filter(action="task.attachment_added").exists()
    assert len(stored_blobs(media)) == 1


def test_an_upload_without_the_csrf_header_is_refused_unread(owner, media):
    task = TaskFactory(owner=owner)
    client, token = csrf_client(owner)
    response = client.post(
        f"/app/tasks/{task.pk}/attachments/",
        {"file": SimpleUploadedFile("a.txt", b"x"), "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 403
    assert not StoredFile.objects.exists() and stored_blobs(media) == []


def post_no_file(client: Client, url: str):
    """What a browser sends for a form whose file input is left empty."""
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n"
    )
    return client.generic(
        "POST", url, body, content_type="multipart/form-data; boundary=b", headers=HTMX
    )


def test_a_refused_upload_says_why_and_keeps_nothing(owner, stranger, settings, media):
    task = TaskFactory(owner=owner, visibility="public")
    client = signed_in_client(owner)
    url = f"/app/tasks/{task.pk}/attachments/"
    settings.FILES_USER_QUOTA_BYTES = 5
    response = client.post(url, {"file": SimpleUploadedFile("big.txt", b"123456")}, headers=HTMX)
    assert response.status_code == 422 and b"exceed your storage quota" in response.content
    nothing = post_no_file(client, url)
    assert nothing.status_code == 422 and b"Choose a file to upload." in nothing.content
    theirs = signed_in_client(stranger).post(
        url, {"file": SimpleUploadedFile("a.txt", b"1")}, headers=HTMX
    )
    assert theirs.status_code == 422 and "Only the owner" in theirs["HX-Trigger"]  # a toast
    assert not StoredFile.objects.exists() and stored_blobs(media) == []


def test_an_attachment_downloads_for_whoever_sees_the_task(owner, stranger):
    task = TaskFactory(owner=owner, visibility="public")
    stored = StoredFileFactory(owner=owner, content=b"abc", name="a.txt")
    task.attachments.add(stored)
    loose = StoredFileFactory(owner=owner)
    url = f"/app/tasks/{task.pk}/attachments/{stored.pk}/download/"
    response = signed_in_client(stranger).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"abc"
    assert response["Content-Disposition"] == 'attachment; filename="a.txt"'
    assert response["ETag"] == f'"{stored.sha256}"'
    other = f"/app/tasks/{task.pk}/attachments/{loose.pk}/download/"
    assert signed_in_client(stranger).get(other).status_code == 404
    private = TaskFactory(owner=owner)
    private.attachments.add(stored)
    hidden = f"/app/tasks/{private.pk}/attachments/{stored.pk}/download/"
    assert signed_in_client(stranger).get(hidden).status_code == 404


def test_removing_an_attachment_keeps_the_file(owner, client):
    task = TaskFactory(owner=owner)
    stored = StoredFileFactory(owner=owner)
    task.attachments.add(stored)
    url = f"/app/tasks/{task.pk}/attachments/{stored.pk}/remove/"
    assert client.get(url).status_code == 405
    response = client.post(url, headers=HTMX)
    assert response.status_code == 200 and "Attachment removed" in response["HX-Trigger"]
    assert not task.attachments.exists() and StoredFile.objects.filter(pk=stored.pk).exists()
    assert client.post(url, headers=HTMX).status_code == 404
    assert AuditEvent.objects.filter(action="task.attachment_removed").exists()


@pytest.mark.parametrize("path", [LIST, "/app/", "/app/files/", "/app/jobs/", "/app/meetings/"])
def test_signed_in_pages_are_never_stored_by_a_cache_or_the_browser(client, owner, path):
    task = TaskFactory(owner=owner)
    for url in (path, f"{LIST}{task.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, url

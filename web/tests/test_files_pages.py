"""The files page: the person's own files and usage, uploads (streamed, hashed, CSRF by
header), downloads, verification and deletion."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from files.models import StoredFile
from files.tests.factories import StoredFileFactory
from taskplatform.testing import stored_blobs

from .pages import signed_in_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
LIST = "/app/files/"
HTMX = {"HX-Request": "true", "HX-Target": "files"}


@pytest.fixture
def owner() -> User:
    return UserFactory(email="owner@example.com")


@pytest.fixture
def client(owner) -> Client:
    return signed_in_client(owner)


def names(response) -> list[str]:
    html = response.content.decode()
    return [
        chunk.split("</td>", 1)[0].rsplit(">", 1)[-1]
        for chunk in html.split('class="file-name">')[1:]
    ]


@pytest.mark.parametrize("path", [LIST, "/app/files/1/download/"])
def test_an_anonymous_visitor_is_sent_to_sign_in(path):
    response = Client().get(path)
    assert response.status_code == 302 and response["Location"].startswith("/app/login/")


def test_the_list_shows_ones_own_files_and_usage(owner, settings, client):
    settings.FILES_USER_QUOTA_BYTES = 1000
    mine = StoredFileFactory(owner=owner, name="mine.txt", content=b"x" * 250)
    StoredFileFactory(name="theirs.txt")
    response = client.get(LIST)
    html = response.content.decode()
    assert response.status_code == 200 and names(response) == ["mine.txt"]
    assert "250\xa0bytes</strong> of 1000\xa0bytes used (25%)" in html
    assert f'data-sha256="{mine.sha256}"' in html and mine.sha256[:12] in html
    assert 'aria-current="page"' in html
    staff = UserFactory(is_staff=True)
    assert names(signed_in_client(staff).get(LIST)) == []  # staff's page is their own too


def test_htmx_targeting_the_region_gets_it_alone(owner, client):
    StoredFileFactory(owner=owner, name="a.txt")
    response = client.get(LIST, headers=HTMX)
    assert b"<html" not in response.content and names(response) == ["a.txt"]


def test_the_list_is_paged(owner, client):
    for n in range(22):
        StoredFileFactory(owner=owner, name=f"f{n:02}.txt")
    assert len(names(client.get(LIST))) == 20
    assert names(client.get(LIST, {"page": 2})) == ["f01.txt", "f00.txt"]


@pytest.mark.parametrize("rows", [1, 50])
def test_the_list_takes_the_same_queries_for_1_or_50_files(
    owner, client, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        StoredFileFactory(owner=owner)
    # session, user, count, page, bytes used
    with django_assert_max_num_queries(5):
        response = client.get(LIST)
    assert len(names(response)) == min(rows, 20)


def csrf_client(user: User) -> tuple[Client, str]:
    client = signed_in_client(user, enforce_csrf_checks=True)
    client.get(LIST)
    return client, client.cookies["csrftoken"].value


def test_uploading_streams_hashes_and_lists_the_file(owner, media):
    client, token = csrf_client(owner)
    content = b"%PDF-1.4 not really\n"
    response = client.post(
        "/app/files/upload/",
        {"file": SimpleUploadedFile("report.pdf", content)},
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert response.status_code == 200
    stored = StoredFile.objects.get()
    assert (stored.owner, stored.name, stored.size) == (owner, "report.pdf", len(content))
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.content_type == "application/pdf"  # sniffed, as the API does
    assert names(response) == ["report.pdf"] and "Uploaded report.pdf." in response["HX-Trigger"]
    assert AuditEvent.objects.filter(action="file.uploaded", actor=owner).exists()
    assert len(stored_blobs(media)) == 1


def test_an_upload_without_the_csrf_header_is_refused(owner, media):
    client, token = csrf_client(owner)
    response = client.post(
        "/app/files/upload/",
        {"file": SimpleUploadedFile("a.txt", b"x"), "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 403
    assert not StoredFile.objects.exists() and stored_blobs(media) == []


@pytest.mark.parametrize(
    ("content", "settings_", "message"),
    [
        (b"123456", {"FILES_USER_QUOTA_BYTES": 5}, b"exceed your storage quota"),
        (b"123456", {"FILES_MAX_UPLOAD_BYTES": 5}, b"larger than the 5 bytes allowed"),
        (b"plain", {"FILES_ALLOWED_CONTENT_TYPES": ["image/png"]}, b"Accepted types: image/png"),
    ],
)
def test_a_refused_upload_says_why_and_keeps_nothing(
    client, settings, media, content, settings_, message
):
    for name, value in settings_.items():
        setattr(settings, name, value)
    response = client.post(
        "/app/files/upload/", {"file": SimpleUploadedFile("a.txt", content)}, headers=HTMX
    )
    assert response.status_code == 422 and message in response.content
    assert 'id="id_file_error"' in response.content.decode()
    assert not StoredFile.objects.exists() and stored_blobs(media) == []


def test_an_upload_without_a_file_is_a_422(client):
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n"
    )
    response = client.generic(
        "POST", "/app/files/upload/", body, "multipart/form-data; boundary=b", headers=HTMX
    )
    assert response.status_code == 422 and b"Choose a file to upload." in response.content
    assert not StoredFile.objects.exists()


def test_downloading_ones_own_file(owner, client):
    stored = StoredFileFactory(owner=owner, name="a.txt", content=b"abc")
    response = client.get(f"/app/files/{stored.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"abc"
    assert response["Content-Disposition"] == 'attachment; filename="a.txt"'
    assert response["Repr-Digest"].startswith("sha-256=:")
    theirs = StoredFileFactory()
    assert client.get(f"/app/files/{theirs.pk}/download/").status_code == 404


def test_a_missing_blob_is_a_404_page(owner, client, media):
    stored = StoredFileFactory(owner=owner)
    for blob in stored_blobs(media):
        blob.unlink()
    response = client.get(f"/app/files/{stored.pk}/download/")
    assert response.status_code == 404 and b"<html" in response.content


def test_verifying_shows_the_result(owner, client, media):
    stored = StoredFileFactory(owner=owner, name="a.txt")
    response = client.post(f"/app/files/{stored.pk}/verify/", headers=HTMX)
    assert response.status_code == 200 and "intact" in response["HX-Trigger"]
    assert b'class="badge ok">Verified' in response.content
    stored.refresh_from_db()
    assert stored.verified_at is not None
    (blob,) = stored_blobs(media)
    blob.write_bytes(b"tampered")
    response = client.post(f"/app/files/{stored.pk}/verify/", headers=HTMX)
    assert '"level": "error"' in response["HX-Trigger"] and b"Mismatch" in response.content
    assert [e.action for e in AuditEvent.objects.order_by("id")] == [
        "file.verified",
        "file.corrupted",
    ]


def test_a_plain_verify_form_redirects_back_to_its_page(owner, client):
    stored = StoredFileFactory(owner=owner)
    response = client.post(f"/app/files/{stored.pk}/verify/", {"page": "2"})
    assert response.status_code == 302 and response["Location"] == "/app/files/?page=2"


def test_deleting_a_file_by_post_only(owner, client, media):
    stored = StoredFileFactory(owner=owner, name="a.txt")
    theirs = StoredFileFactory()
    url = f"/app/files/{stored.pk}/delete/"
    assert client.get(url).status_code == 405
    assert client.post(f"/app/files/{theirs.pk}/delete/").status_code == 404
    response = client.post(url, headers=HTMX)
    assert response.status_code == 200 and "Deleted a.txt." in response["HX-Trigger"]
    assert names(response) == []
    assert list(StoredFile.objects.all()) == [theirs] and len(stored_blobs(media)) == 1
    assert AuditEvent.objects.filter(action="file.deleted", actor=owner).exists()


def test_the_actions_are_htmx_forms_with_plain_fallbacks(owner, client):
    stored = StoredFileFactory(owner=owner, name="a.txt")
    html = client.get(LIST).content.decode()
    assert 'hx-encoding="multipart/form-data"' in html and "<progress" in html
    assert f'href="/app/files/{stored.pk}/download/" download' in html  # a plain link
    assert f'hx-post="/app/files/{stored.pk}/delete/"' in html and "hx-confirm=" in html
    assert f'action="/app/files/{stored.pk}/verify/"' in html
    assert '<label for="id_file">' in html

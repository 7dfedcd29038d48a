"""List, detail, download, verify and delete: owner / other user / staff for each."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.core.files.storage import FileSystemStorage, default_storage

from audit.models import AuditEvent
from files.models import StoredFile
from taskplatform.testing import stored_blobs

from .factories import StoredFileFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/files/"


@pytest.fixture
def mine(user):
    return StoredFileFactory(owner=user, name="report.txt", content=b"quarterly numbers\n")


@pytest.fixture
def theirs(other_user):
    return StoredFileFactory(owner=other_user, name="secret.txt", content=b"not yours")


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- list -------------------------------------------------------------------------------------


def test_list_shows_only_my_files(user_client, mine, theirs):
    assert ids(user_client.get(URL)) == [mine.pk]


def test_staff_list_every_file_and_can_filter_by_owner(staff_client, mine, theirs, user):
    assert set(ids(staff_client.get(URL))) == {mine.pk, theirs.pk}
    assert ids(staff_client.get(URL, {"owner": user.pk})) == [mine.pk]


def test_list_search_digest_filter_and_ordering(user_client, user, mine):
    big = StoredFileFactory(owner=user, name="big-archive.bin", content=b"z" * 100)
    assert ids(user_client.get(URL, {"search": "ARCHIVE"})) == [big.pk]
    assert ids(user_client.get(URL, {"sha256": mine.sha256.upper()})) == [mine.pk]
    assert ids(user_client.get(URL, {"ordering": "-size"})) == [big.pk, mine.pk]
    assert ids(user_client.get(URL, {"ordering": "name"})) == [big.pk, mine.pk]
    assert ids(user_client.get(URL, {"ordering": "-created_at"})) == [big.pk, mine.pk]


@pytest.mark.parametrize("params", [{"sha256": "nothex"}, {"owner": "x"}, {"search": "a\x00"}])
def test_bad_list_filters_are_400(user_client, params):
    response = user_client.get(URL, params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_list_runs_a_constant_number_of_queries(user_client, user, django_assert_max_num_queries):
    StoredFileFactory(owner=user)
    with django_assert_max_num_queries(3):
        assert len(ids(user_client.get(URL))) == 1
    StoredFileFactory.create_batch(49, owner=user)
    with django_assert_max_num_queries(3):
        assert len(ids(user_client.get(URL, {"page_size": 50}))) == 50


def test_list_pagination_shape(user_client, user):
    StoredFileFactory.create_batch(3, owner=user)
    body = user_client.get(URL, {"page_size": 2}).json()
    assert body["count"] == 3 and body["next"] and body["previous"] is None


# --- detail -----------------------------------------------------------------------------------


def test_detail_trio(user_client, other_client, staff_client, mine):
    url = f"{URL}{mine.pk}/"
    body = user_client.get(url).json()
    assert set(body) == {
        "id",
        "name",
        "size",
        "content_type",
        "sha256",
        "created_at",
        "verified_at",
        "download_url",
    }
    assert other_client.get(url).status_code == 404
    assert staff_client.get(url).status_code == 200


# --- download ---------------------------------------------------------------------------------


def test_download_streams_the_bytes_with_integrity_headers(user_client, mine):
    response = user_client.get(f"{URL}{mine.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"quarterly numbers\n"
    assert response["Content-Disposition"] == 'attachment; filename="report.txt"'
    assert response["ETag"] == f'"{mine.sha256}"'
    raw = hashlib.sha256(b"quarterly numbers\n").digest()
    assert response["Repr-Digest"] == f"sha-256=:{base64.b64encode(raw).decode()}:"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Length"] == str(mine.size)


def test_download_names_non_ascii_files_with_rfc6266_filename_star(user_client, user):
    stored = StoredFileFactory(owner=user, name="résumé 📄.txt")
    disposition = user_client.get(f"{URL}{stored.pk}/download/")["Content-Disposition"]
    assert disposition == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9%20%F0%9F%93%84.txt"


def test_download_answers_304_when_the_client_has_it(user_client, mine):
    response = user_client.get(f"{URL}{mine.pk}/download/", HTTP_IF_NONE_MATCH=f'"{mine.sha256}"')
    assert response.status_code == 304 and response["ETag"] == f'"{mine.sha256}"'


def test_download_ignores_the_accept_header(user_client, mine):
    response = user_client.get(f"{URL}{mine.pk}/download/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200


def test_download_trio(other_client, staff_client, mine):
    url = f"{URL}{mine.pk}/download/"
    missing = other_client.get(url)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert staff_client.get(url).status_code == 200


def test_download_of_a_missing_blob_is_a_clear_404(user_client, mine):
    default_storage.delete(mine.storage_key)
    response = user_client.get(f"{URL}{mine.pk}/download/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "content_missing"


# --- verify -----------------------------------------------------------------------------------


def test_verify_rehashes_and_records_the_time(user_client, mine):
    body = user_client.post(f"{URL}{mine.pk}/verify/").json()
    assert body["ok"] is True and body["id"] == mine.pk
    assert body["sha256"] == body["actual_sha256"] == mine.sha256
    mine.refresh_from_db()
    assert mine.verified_at is not None
    assert AuditEvent.objects.filter(action="file.verified", target_id=str(mine.pk)).exists()


def test_verify_detects_a_blob_altered_on_disk(user_client, mine, media, caplog):
    (media / mine.storage_key).write_bytes(b"quarterly numbers, doctored\n")
    body = user_client.post(f"{URL}{mine.pk}/verify/").json()
    assert body["ok"] is False and body["actual_sha256"] != mine.sha256
    mine.refresh_from_db()
    assert mine.verified_at is None
    event = AuditEvent.objects.get(action="file.corrupted")
    assert event.details["expected_sha256"] == mine.sha256
    assert f"file {mine.pk} is corrupted" in caplog.text


def test_verify_reports_a_missing_blob_as_corrupted(user_client, mine):
    default_storage.delete(mine.storage_key)
    body = user_client.post(f"{URL}{mine.pk}/verify/").json()
    assert body["ok"] is False and body["actual_sha256"] is None


def test_verify_trio(other_client, staff_client, mine):
    assert other_client.post(f"{URL}{mine.pk}/verify/").status_code == 404
    assert staff_client.post(f"{URL}{mine.pk}/verify/").status_code == 200
    assert AuditEvent.objects.get(action="file.verified").actor == staff_client.user


# --- delete -----------------------------------------------------------------------------------


def test_delete_removes_the_row_and_the_blob(user_client, mine, media):
    assert user_client.delete(f"{URL}{mine.pk}/").status_code == 204
    assert not StoredFile.objects.exists()
    assert stored_blobs(media) == []
    assert AuditEvent.objects.get(action="file.deleted").details["sha256"] == mine.sha256


def test_delete_trio(other_client, staff_client, mine, media):
    assert other_client.delete(f"{URL}{mine.pk}/").status_code == 404
    assert StoredFile.objects.filter(pk=mine.pk).exists() and stored_blobs(media)
    assert staff_client.delete(f"{URL}{mine.pk}/").status_code == 204
    assert stored_blobs(media) == []


def test_when_storage_refuses_the_delete_the_file_stays_whole(
    user_client, mine, media, monkeypatch
):
    def refuse(self, name):
        raise OSError("storage is down")

    monkeypatch.setattr(FileSystemStorage, "delete", refuse)
    response = user_client.delete(f"{URL}{mine.pk}/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert StoredFile.objects.filter(pk=mine.pk).exists()
    assert (media / mine.storage_key).exists()
    assert not AuditEvent.objects.filter(action="file.deleted").exists()


def test_a_huge_id_is_a_404(user_client):
    assert user_client.get(f"{URL}{'9' * 40}/").status_code == 404


def test_anonymous_gets_401_everywhere(api_client, mine):
    for method, path in [
        ("get", URL),
        ("get", f"{URL}{mine.pk}/"),
        ("get", f"{URL}{mine.pk}/download/"),
        ("post", f"{URL}{mine.pk}/verify/"),
        ("delete", f"{URL}{mine.pk}/"),
    ]:
        assert getattr(api_client, method)(path).status_code == 401

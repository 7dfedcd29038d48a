"""POST /api/v1/files/: hashed while streaming, checked, sanitised, limited."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from files.models import StoredFile
from taskplatform.testing import stored_blobs

from .factories import StoredFileFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/files/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def upload(client, content=b"some bytes", name="notes.txt", content_type="text/plain", **extra):
    data = {"file": SimpleUploadedFile(name, content, content_type=content_type), **extra}
    return client.post(URL, data, format="multipart")


def error(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    return response.json()["error"]


def test_it_stores_the_file_with_its_digest_and_sniffed_type(user_client, user, media):
    response = upload(user_client, PNG, name="photo.txt", content_type="text/plain")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert body["size"] == len(PNG) and body["name"] == "photo.txt"
    assert body["content_type"] == "image/png"  # from the bytes, not from the client
    assert body["verified_at"] is None
    assert body["download_url"].endswith(f"/api/v1/files/{body['id']}/download/")
    stored = StoredFile.objects.get(pk=body["id"])
    assert stored.owner == user
    assert re.fullmatch(rf"{user.pk}/[0-9a-f]{{32}}", stored.storage_key)
    assert (media / stored.storage_key).read_bytes() == PNG
    event = AuditEvent.objects.get(action="file.uploaded")
    assert event.target_id == str(stored.pk) and event.details["sha256"] == stored.sha256


def test_a_matching_digest_is_accepted_in_any_case(user_client):
    digest = hashlib.sha256(b"abc").hexdigest().upper()
    assert upload(user_client, b"abc", sha256=digest).status_code == 201


def test_a_wrong_digest_stores_nothing(user_client, media):
    wrong = hashlib.sha256(b"something else").hexdigest()
    details = error(upload(user_client, b"abc", sha256=wrong), 400, "checksum_mismatch")["details"]
    assert wrong in details["sha256"][0]
    assert not StoredFile.objects.exists()
    assert stored_blobs(media) == []
    assert not AuditEvent.objects.filter(action="file.uploaded").exists()


@pytest.mark.parametrize("bad", ["xyz", "a" * 63, "g" * 64])
def test_a_malformed_digest_is_a_validation_error(user_client, bad):
    error(upload(user_client, b"abc", sha256=bad), 400, "validation_error")
    assert not StoredFile.objects.exists()


def test_an_empty_file_is_fine(user_client):
    body = upload(user_client, b"", name="empty.txt").json()
    assert body["size"] == 0
    assert body["sha256"] == hashlib.sha256(b"").hexdigest()


def test_an_upload_over_the_limit_is_refused_while_streaming(user_client, settings, media):
    settings.FILES_MAX_UPLOAD_BYTES = 1000
    details = error(upload(user_client, b"x" * 5000), 413, "file_too_large")["details"]
    assert details["max_bytes"] == 1000
    assert not StoredFile.objects.exists() and stored_blobs(media) == []


def test_an_upload_announced_over_the_limit_is_refused_before_reading(user_client, settings):
    settings.FILES_MAX_UPLOAD_BYTES = 1000
    error(upload(user_client, b"x" * 200_000), 413, "file_too_large")
    assert not StoredFile.objects.exists()


def test_an_upload_exactly_at_the_limit_is_accepted(user_client, settings):
    settings.FILES_MAX_UPLOAD_BYTES = 1000
    assert upload(user_client, b"x" * 1000).status_code == 201


def test_the_quota_is_enforced_and_nothing_is_kept(user_client, user, settings, media):
    settings.FILES_USER_QUOTA_BYTES = 100
    StoredFileFactory(owner=user, content=b"y" * 60)
    details = error(upload(user_client, b"x" * 50), 413, "quota_exceeded")["details"]
    assert details == {"quota_bytes": 100, "used_bytes": 60, "size": 50}
    assert StoredFile.objects.count() == 1 and len(stored_blobs(media)) == 1
    assert upload(user_client, b"x" * 40).status_code == 201


def test_other_users_files_do_not_count_against_my_quota(user_client, other_user, settings):
    settings.FILES_USER_QUOTA_BYTES = 100
    StoredFileFactory(owner=other_user, content=b"y" * 100)
    assert upload(user_client, b"x" * 100).status_code == 201


def test_the_content_type_allow_list(user_client, settings, media):
    settings.FILES_ALLOWED_CONTENT_TYPES = ["image/png"]
    error(upload(user_client, b"plain text"), 415, "unsupported_file_type")
    assert stored_blobs(media) == []
    assert upload(user_client, PNG, name="a.png").status_code == 201


def raw_upload(client, filename):
    # built by hand: the test client would strip path parts before they reach the server
    boundary = "hostileboundary"
    body = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
        "data\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    return client.generic(
        "POST", URL, body, content_type=f"multipart/form-data; boundary={boundary}"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\win.ini", "win.ini"),  # a raw backslash: a quoted-string escape
        ("C:\\\\fakepath\\\\a.txt", "a.txt"),  # escaped backslashes: a Windows path
        ("..", "unnamed"),
        ("../..", "unnamed"),
        ("report\x00.pdf", "report.pdf"),
        ("x" * 300 + ".txt", "x" * 251 + ".txt"),
        ("📄 résumé.txt", "📄 résumé.txt"),
        ("...txt", "txt"),
    ],
)
def test_hostile_names_are_sanitised_and_never_reach_the_storage_path(
    user_client, user, media, raw, expected
):
    response = raw_upload(user_client, raw)
    assert response.status_code == 201, response.content
    assert response.json()["name"] == expected
    stored = StoredFile.objects.get()
    assert stored.storage_key.startswith(f"{user.pk}/") and ".." not in stored.storage_key
    assert [p.relative_to(media).as_posix() for p in stored_blobs(media)] == [stored.storage_key]


def test_a_file_part_without_a_filename_is_not_a_file(user_client):
    boundary = "b0und"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
        f"just text\r\n--{boundary}--\r\n"
    ).encode()
    response = user_client.generic(
        "POST", URL, body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert error(response, 400, "validation_error")["details"]["file"]
    assert not StoredFile.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"not multipart at all",
        b'--b0und\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
    ],
)
def test_a_malformed_body_is_a_400(user_client, body):
    response = user_client.generic(
        "POST", URL, body, content_type="multipart/form-data; boundary=b0und"
    )
    error(response, 400, "malformed_request")
    assert not StoredFile.objects.exists()


def test_a_second_file_part_is_refused(user_client):
    part = 'Content-Disposition: form-data; name="file"; filename="{}"\r\n\r\nx\r\n'
    body = f"--b\r\n{part.format('a')}--b\r\n{part.format('b')}--b--\r\n".encode()
    response = user_client.generic(
        "POST", URL, body, content_type="multipart/form-data; boundary=b"
    )
    error(response, 400, "malformed_request")


def test_an_overlong_sha256_field_is_a_400(user_client):
    response = upload(user_client, b"abc", sha256="a" * 5000)
    assert response.status_code == 400


def test_a_missing_file_field_is_a_validation_error(user_client):
    details = error(user_client.post(URL, {}, format="multipart"), 400, "validation_error")
    assert "file" in details["details"]


def test_json_is_not_an_upload(user_client):
    error(user_client.post(URL, {"file": "abc"}, format="json"), 415, "unsupported_media_type")


def test_upload_needs_authentication(api_client):
    error(upload(api_client), 401, "not_authenticated")


def test_no_temporary_files_are_left_behind(user_client, settings, tmp_path):
    upload(user_client, b"abc")
    upload(user_client, b"abc", sha256="0" * 64)
    assert list((tmp_path / "tmp").iterdir()) == []


def _body_with_file(content: bytes, boundary: str, ending: str) -> bytes:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
    return head.encode() + content + ending.encode()


@pytest.mark.parametrize("straddle", [1, 5, 10])
def test_a_closing_delimiter_split_between_reads_is_seen(user_client, straddle):
    # the body is read 1 MiB at a time: put the closing delimiter across that boundary
    boundary, read = "b0und", 1024 * 1024
    head_length = len(_body_with_file(b"", boundary, ""))
    content = b"x" * (2 * read - head_length - straddle)
    body = _body_with_file(content, boundary, f"\r\n--{boundary}--\r\n")
    response = user_client.generic(
        "POST", URL, body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 201, response.content
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()


def test_a_body_cut_short_after_a_large_file_part_is_a_400(user_client, media):
    body = _body_with_file(b"x" * (3 * 1024 * 1024 // 2), "b0und", "\r\n--b0und\r\n")
    response = user_client.generic(
        "POST", URL, body, content_type="multipart/form-data; boundary=b0und"
    )
    error(response, 400, "malformed_request")
    assert not StoredFile.objects.exists()
    assert stored_blobs(media) == []

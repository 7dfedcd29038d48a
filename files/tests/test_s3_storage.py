"""The same upload / download / verify / delete flow on S3-compatible storage.

A real S3 API server (moto's server mode) runs on 127.0.0.1 for these tests; the app talks
to it through django-storages and boto3 over HTTP exactly as it would to AWS or MinIO.
"""

from __future__ import annotations

import hashlib

import boto3
import pytest
from moto.server import ThreadedMotoServer

from files.models import StoredFile
from taskplatform.testing import free_port

pytestmark = pytest.mark.django_db

URL = "/api/v1/files/"
BUCKET = "taskplatform-test"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_the_whole_flow_on_s3(user_client, bucket):
    content = b"stored in a bucket\n" * 1000
    created = user_client.post(
        URL,
        {"file": _upload("bucket.txt", content), "sha256": hashlib.sha256(content).hexdigest()},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    file_id = created.json()["id"]
    stored = StoredFile.objects.get(pk=file_id)
    assert keys(bucket) == [stored.storage_key]
    blob = bucket.get_object(Bucket=BUCKET, Key=stored.storage_key)["Body"].read()
    assert blob == content

    download = user_client.get(f"{URL}{file_id}/download/")
    assert b"".join(download.streaming_content) == content
    assert download["ETag"] == f'"{stored.sha256}"'

    assert user_client.post(f"{URL}{file_id}/verify/").json()["ok"] is True

    bucket.put_object(Bucket=BUCKET, Key=stored.storage_key, Body=b"tampered")
    assert user_client.post(f"{URL}{file_id}/verify/").json()["ok"] is False

    assert user_client.delete(f"{URL}{file_id}/").status_code == 204
    assert keys(bucket) == [] and not StoredFile.objects.exists()


def test_a_checksum_mismatch_leaves_nothing_in_the_bucket(user_client, bucket):
    response = user_client.post(
        URL, {"file": _upload("x.txt", b"abc"), "sha256": "0" * 64}, format="multipart"
    )
    assert response.status_code == 400
    assert keys(bucket) == []


def test_a_quota_refusal_removes_the_blob_from_the_bucket(user_client, bucket, settings):
    settings.FILES_USER_QUOTA_BYTES = 2
    response = user_client.post(URL, {"file": _upload("x.txt", b"abc")}, format="multipart")
    assert response.status_code == 413
    assert keys(bucket) == []


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from files.models import StoredFile
from taskplatform.testing import stored_blobs

from .factories import StoredFileFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/files/storedfile/"


def test_changelist_search_and_filters(admin_client, user):
    stored = StoredFileFactory(owner=user, name="needle.txt")
    StoredFileFactory(owner=user, name="hay.txt")
    page = admin_client.get(CHANGELIST, {"q": "needle"})
    assert (
        page.status_code == 200 and b"needle.txt" in page.content and b"hay.txt" not in page.content
    )
    assert admin_client.get(CHANGELIST, {"q": user.email}).status_code == 200
    assert admin_client.get(CHANGELIST, {"content_type": "text/plain"}).status_code == 200
    assert admin_client.get(f"{CHANGELIST}{stored.pk}/change/").status_code == 200
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403


def test_verify_integrity_action(admin_client, user, media):
    good = StoredFileFactory(owner=user)
    bad = StoredFileFactory(owner=user, name="rotten.txt")
    (media / bad.storage_key).write_bytes(b"changed")
    response = admin_client.post(
        CHANGELIST,
        {"action": "verify_integrity", "_selected_action": [good.pk, bad.pk]},
        follow=True,
    )
    assert b"Corrupted: rotten.txt" in response.content
    response = admin_client.post(
        CHANGELIST, {"action": "verify_integrity", "_selected_action": [good.pk]}, follow=True
    )
    assert b"all intact" in response.content
    assert AuditEvent.objects.filter(action="file.corrupted").count() == 1


def test_deleting_in_the_admin_removes_the_blob_too(admin_client, user, media):
    one, two = StoredFileFactory.create_batch(2, owner=user)
    admin_client.post(f"{CHANGELIST}{one.pk}/delete/", {"post": "yes"})
    admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [two.pk], "post": "yes"}
    )
    assert not StoredFile.objects.exists() and stored_blobs(media) == []

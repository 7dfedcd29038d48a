"""What an owner's files take: the quota's byte count and what deleting the owner removes."""

from __future__ import annotations

import pytest

from files.selectors import file_bytes_used, file_usage
from files.tests.factories import StoredFileFactory

pytestmark = pytest.mark.django_db


def test_usage_lists_the_owner_s_keys_and_bytes(user, other_user):
    mine = [StoredFileFactory(owner=user, content=b"x" * n) for n in (3, 5)]
    StoredFileFactory(owner=other_user, content=b"y" * 7)
    usage = file_usage(owner=user)
    assert sorted(usage.keys) == sorted(f.storage_key for f in mine)
    assert usage.bytes == 8 == file_bytes_used(owner=user)


def test_no_files_is_no_keys_and_no_bytes(user):
    assert file_usage(owner=user).keys == []
    assert file_usage(owner=user).bytes == 0 == file_bytes_used(owner=user)

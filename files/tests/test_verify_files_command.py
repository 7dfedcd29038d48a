from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from .factories import StoredFileFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("verify_files", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_all_intact_exits_zero_with_a_progress_bar(user):
    StoredFileFactory.create_batch(3, owner=user)
    out, err = run()
    assert "3 file(s) verified: all intact." in out
    assert "3/3" in err  # the progress bar


def test_a_corrupted_file_fails_the_command_and_is_named(user, media):
    good = StoredFileFactory(owner=user)
    bad = StoredFileFactory(owner=user, name="broken.txt")
    (media / bad.storage_key).write_bytes(b"bit rot")
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 2 file"):
        call_command("verify_files", "--no-progress", stdout=out, stderr=StringIO())
    assert f"id={bad.pk}" in out.getvalue() and "broken.txt" in out.getvalue()
    good.refresh_from_db()
    assert good.verified_at is not None


def test_owner_limits_the_check(user, other_user, media):
    StoredFileFactory(owner=user)
    broken = StoredFileFactory(owner=other_user)
    (media / broken.storage_key).write_bytes(b"bit rot")
    out, _ = run("--owner", user.email.upper())
    assert "1 file(s) verified" in out


def test_an_unknown_owner_is_an_error():
    with pytest.raises(CommandError, match="No user"):
        run("--owner", "ghost@example.com")

"""The embedded default's mailbox: one file per email, a console line, and the staff page."""

from __future__ import annotations

import logging
from urllib.parse import unquote

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection

from notifications.mailbox import mailbox_list

pytestmark = pytest.mark.django_db

VERIFY = "http://127.0.0.1:8000/verify-email/?token=abc:1x:sig"


@pytest.fixture
def mailbox(settings, tmp_path):
    settings.EMAIL_BACKEND = "notifications.mailbox.MailboxBackend"
    settings.EMBEDDED_MAIL = True
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    return tmp_path / "mail"


def send(
    subject: str, to: str = "ada@example.com", body: str = f"Open {VERIFY} to verify."
) -> None:
    message = EmailMultiAlternatives(subject, body, "noreply@localhost", [to])
    message.attach_alternative(f"<p><a href='{VERIFY}'>Verify</a></p>", "text/html")
    assert get_connection().send_messages([message]) == 1


def test_each_email_is_its_own_file_and_one_console_line(mailbox, caplog):
    with caplog.at_level(logging.INFO, logger="notifications.mailbox"):
        send("Verify your email address")
        send("Welcome", to="bo@example.com", body="No link here.")
    files = sorted(mailbox.iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no temporary file left
    assert [r.getMessage() for r in caplog.records] == [
        f"mail to ada@example.com: Verify your email address; link: {VERIFY}",
        "mail to bo@example.com: Welcome",
    ]
    newest, oldest = mailbox_list()
    assert (newest.subject, newest.to, newest.links) == ("Welcome", "bo@example.com", [])
    assert (oldest.subject, oldest.links) == ("Verify your email address", [VERIFY])
    assert "<a href=" in oldest.html


def test_staff_on_this_machine_read_the_mailbox_with_links_to_follow(mailbox, admin_client):
    send("Verify your email address")
    page = admin_client.get("/mailbox/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Verify your email address" in text and "ada@example.com" in text
    assert f'href="{VERIFY}"' in text.replace("&amp;", "&")
    (mail,) = mailbox_list()
    one = admin_client.get(f"/mailbox/{mail.name}/")
    assert one.status_code == 200
    # the text with its links made links (urlize quotes the token's colons: the same address)
    assert f'href="{VERIFY}"' in unquote(one.content.decode())


def test_others_are_sent_to_sign_in_as_staff(mailbox, client, user):
    assert client.get("/mailbox/")["Location"].startswith("/admin/login/?next=/mailbox/")
    client.force_login(user)
    assert client.get("/mailbox/").status_code == 302


@pytest.mark.parametrize(
    "meta",
    [
        {"REMOTE_ADDR": "203.0.113.9"},  # from the network (make run with HOST=0.0.0.0)
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},  # behind a proxy
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=203.0.113.9"},
    ],
)
def test_the_mailbox_does_not_exist_off_this_machine(mailbox, admin_client, meta):
    send("Reset your password")
    assert admin_client.get("/mailbox/", **meta).status_code == 404
    (mail,) = mailbox_list()
    assert admin_client.get(f"/mailbox/{mail.name}/", **meta).status_code == 404


def test_the_mailbox_does_not_exist_when_mail_goes_to_a_server(admin_client, settings):
    settings.EMBEDDED_MAIL = False
    assert admin_client.get("/mailbox/").status_code == 404


@pytest.mark.parametrize("name", ["..%2Fsecret_key", "x.eml", "20261208T030224298780-zz.eml"])
def test_only_the_mailbox_files_can_be_named(mailbox, admin_client, name):
    assert admin_client.get(f"/mailbox/{name}/").status_code == 404


def test_an_empty_mailbox_says_how_mail_gets_there(mailbox, admin_client):
    page = admin_client.get("/mailbox/")
    assert "No email yet" in page.content.decode()
    assert admin_client.post("/mailbox/").status_code == 405


def test_the_mailbox_command_lists_and_prints_the_newest_link_for_scripts(mailbox):
    from io import StringIO

    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=r"No email with a link to ada@example\.com"):
        call_command("mailbox", "--to", "ada@example.com", "--link")
    send("Old", body="http://127.0.0.1:8000/verify-email/?token=old")
    send("Verify your email address")
    send("For Bo", to="bo@example.com", body="http://127.0.0.1:8000/bo")
    out = StringIO()
    call_command("mailbox", "--to", "ADA@example.com", "--link", stdout=out)
    assert out.getvalue() == VERIFY + "\n"  # the newest to that address, not the newest of all
    out = StringIO()
    call_command("mailbox", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[0].endswith("bo@example.com  For Bo  http://127.0.0.1:8000/bo")


def test_the_mailbox_command_says_where_mail_goes_instead(settings):
    from django.core.management import CommandError, call_command

    settings.EMBEDDED_MAIL = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with pytest.raises(CommandError, match=r"smtp\.EmailBackend, not to var/mail/"):
        call_command("mailbox")

"""A user of the stack over HTTP that remembers every answer it got (no 500s allowed)."""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests

PASSWORD = "correct-horse-battery-staple"
VERIFY_LINK = re.compile(r"/verify-email/\?token=(\S+)")


class Answers:
    """Status codes of every request made through the users of one test."""

    def __init__(self) -> None:
        self.codes: Counter[int] = Counter()
        self.errors: list[str] = []  # 5xx other than 503, and connection failures
        self.lock = threading.Lock()

    def add(self, method: str, path: str, response: requests.Response | None, exc=None) -> None:
        with self.lock:
            if response is None:
                self.codes[0] += 1
                self.errors.append(f"{method} {path}: {exc}")
                return
            self.codes[response.status_code] += 1
            if response.status_code >= 500 and response.status_code != 503:
                self.errors.append(f"{method} {path}: {response.status_code} {response.text[:300]}")


def _plain_text(message: Any) -> str:
    parts = [
        part.get_payload(decode=True).decode("utf-8", "replace")
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    ]
    return "\n".join(parts)


class User:
    """A person using the platform over HTTP. Signing up verifies the address as a person
    does: the verification email is read from the stack's SMTP sink (`User.mailbox`, set
    by the suite's `stack` fixture) and its token posted back."""

    mailbox: ClassVar[Any] = None  # the stack's SmtpSink

    def __init__(self, base: str, answers: Answers, *, tag: str) -> None:
        self.base = base
        self.answers = answers
        self.email = f"{tag}-{secrets.token_hex(4)}@example.com"
        self.session = requests.Session()
        # as behind the TLS proxy of a real deployment
        self.session.headers["X-Forwarded-Proto"] = "https"
        self.verified = threading.Event()

    def call(self, method: str, path: str, **kwargs) -> requests.Response | None:
        try:
            response = self.session.request(method, self.base + path, timeout=30, **kwargs)
        except requests.RequestException as exc:
            self.answers.add(method, path, None, exc)
            return None
        self.answers.add(method, path, response)
        return response

    def sign_up(self, *, wait_verified: float = 15.0) -> User:
        """Register, verify the address, log in. The verification email can't arrive while
        the broker is down: then this returns after `wait_verified` seconds, and the address
        is verified in the background once the email comes (mail to it is held till then)."""
        body = {"email": self.email, "password": PASSWORD, "full_name": "Fault Tester"}
        assert self.call("POST", "/api/v1/auth/register/", json=body).status_code == 202
        threading.Thread(target=self._verify_when_mailed, daemon=True).start()
        self.verified.wait(timeout=wait_verified)
        return self.log_in()

    def _verify_when_mailed(self, timeout: float = 600.0) -> None:
        assert User.mailbox is not None, "User.mailbox: the stack's SMTP sink is not set"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with User.mailbox.recorder.lock:
                messages = list(User.mailbox.recorder.messages)
            for message in messages:
                link = VERIFY_LINK.search(_plain_text(message))
                if link and self.email in str(message.get("To", "")):
                    response = self.call(
                        "POST", "/api/v1/auth/verify-email/", json={"token": link.group(1)}
                    )
                    if response is not None and response.status_code == 200:
                        self.verified.set()
                        return
            time.sleep(0.2)

    def log_in(self) -> User:
        body = {"email": self.email, "password": PASSWORD}
        response = self.call("POST", "/api/v1/auth/login/", json=body)
        assert response is not None and response.status_code == 200, response
        self.session.headers["Authorization"] = f"Bearer {response.json()['access']}"
        return self

    def reminder(
        self,
        message: str,
        *,
        in_seconds: float = 0,
        at: datetime | None = None,
        retry: bool = True,
    ) -> int | None:
        """A one-off reminder job due `at` (else in `in_seconds`); returns its id (None if
        the platform answered 503)."""
        run_at = (at or datetime.now(UTC) + timedelta(seconds=in_seconds)).isoformat()
        body = {
            "name": message[:100],
            "kind": "reminder",
            "params": {"message": message},
            "schedule": {"type": "once", "run_at": run_at},
            "notify_on": ["failed"],  # the reminder itself is the one email counted
        }
        for _ in range(30 if retry else 1):
            response = self.call("POST", "/api/v1/jobs/", json=body)
            if response is not None and response.status_code == 201:
                return response.json()["id"]
            if response is not None and response.status_code not in (503, 429):
                raise AssertionError(f"job not created: {response.status_code} {response.text}")
            time.sleep(1)
        return None


class Load:
    """Background API traffic (create a task, list tasks) until stopped."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.stop_event = threading.Event()
        self.created = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self.stop_event.is_set():
            n += 1
            response = self.user.call("POST", "/api/v1/tasks/", json={"title": f"load {n}"})
            if response is not None and response.status_code == 201:
                self.created += 1
            self.user.call("GET", "/api/v1/tasks/?page_size=5")
            time.sleep(0.05)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        self.thread.join(timeout=60)


class LiveListener:
    """A client of the live process, signed in with the user's token, in a thread: every
    event it is sent, in order (`events`). When the socket closes (the token expired, the
    process restarted) it signs in again and resumes from the last id, as live.js does."""

    def __init__(self, user: User, url: str) -> None:
        self.user, self.url = user, url
        self.events: list[dict] = []
        self.connections = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from websockets.exceptions import ConnectionClosed, InvalidHandshake
        from websockets.sync.client import connect

        while not self.stop_event.is_set():
            last = self.events[-1]["id"] if self.events else None
            query = f"?last_id={last}" if last is not None else ""
            headers = {"Authorization": self.user.session.headers["Authorization"]}
            try:
                with connect(self.url + query, additional_headers=headers) as ws:
                    self.connections += 1
                    while not self.stop_event.is_set():
                        with contextlib.suppress(TimeoutError):
                            message = json.loads(ws.recv(timeout=0.5))
                            if "id" in message:
                                self.events.append(message)
            except ConnectionClosed as closed:
                if closed.rcvd is not None and closed.rcvd.code == 4401:
                    self.user.log_in()  # a new access token
            except (OSError, InvalidHandshake):
                time.sleep(1)

    def runs_finished(self, job_ids: list[int]) -> dict[int, int]:
        """How many `run.finished` succeeded events each job got."""
        counts = dict.fromkeys(job_ids, 0)
        for event in self.events:
            data = event.get("data", {})
            succeeded = event["type"] == "run.finished" and data.get("status") == "succeeded"
            if succeeded and data.get("job_id") in counts:
                counts[data["job_id"]] += 1
        return counts

    def __enter__(self) -> LiveListener:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.connections and time.monotonic() < deadline:
            time.sleep(0.1)
        assert self.connections, "the live process never took the connection"
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)

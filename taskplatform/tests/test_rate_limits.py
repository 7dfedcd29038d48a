"""Rate limits answer 429 in the envelope with Retry-After, say where a caller stands in
X-RateLimit-* headers (except on the account endpoints), and hold across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"


def attempt(client, email="someone@example.com", ip="198.51.100.1"):
    return client.post(LOGIN, {"email": email, "password": "wrong"}, format="json", REMOTE_ADDR=ip)


# hourly windows: a fixed window rolling over mid-test would reset the counters
@pytest.fixture
def strict(settings):
    settings.RATELIMITS = {
        "auth": "3/h",
        "login_ip": "6/h",
        "login_email": "9/h",
        "account_mail_email": "2/h",
        "account_mail_ip": "4/h",
        "account_token": "3/h",
        "api": "50/h",
    }


def test_login_locks_out_an_address_email_pair(api_client, strict):
    for _ in range(3):
        assert attempt(api_client, email="Target@Example.com").status_code == 401
    limited = attempt(api_client, email="target@example.com")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 3600
    # nothing but Retry-After says how long: no count of attempts left
    assert "remaining" not in limited.content.decode().lower()
    # the same address may still try other accounts, and the owner logs in from elsewhere
    assert attempt(api_client, email="other@example.com").status_code == 401
    assert attempt(api_client, email="target@example.com", ip="198.51.100.2").status_code == 401


def test_a_user_locked_out_from_one_address_still_logs_in_from_another(api_client, strict, user):
    from taskplatform.testing import PASSWORD

    for _ in range(4):
        attempt(api_client, email=user.email, ip="203.0.113.66")
    assert attempt(api_client, email=user.email, ip="203.0.113.66").status_code == 429
    response = api_client.post(
        LOGIN, {"email": user.email, "password": PASSWORD}, format="json", REMOTE_ADDR="192.0.2.8"
    )
    assert response.status_code == 200, response.content


def test_login_is_limited_per_address_across_emails(api_client, strict):
    for n in range(6):
        assert attempt(api_client, email=f"u{n}@example.com").status_code == 401
    assert attempt(api_client, email="u9@example.com").status_code == 429
    assert attempt(api_client, email="u9@example.com", ip="198.51.100.2").status_code == 401


def test_login_per_email_from_many_addresses_has_a_far_higher_limit(api_client, strict):
    for n in range(9):
        assert (
            attempt(api_client, email="target@example.com", ip=f"203.0.113.{n}").status_code == 401
        )
    assert attempt(api_client, email="target@example.com", ip="203.0.113.99").status_code == 429


def test_register_is_limited(api_client, strict):
    for n in range(3):
        api_client.post("/api/v1/auth/register/", {"email": f"r{n}@example.com"}, format="json")
    response = api_client.post("/api/v1/auth/register/", {"email": "r9@x.com"}, format="json")
    assert response.status_code == 429


def register(client, email, ip):
    body = {"email": email, "password": "a-long-passphrase-1"}
    return client.post("/api/v1/auth/register/", body, format="json", REMOTE_ADDR=ip)


def account_mail(client, path, email, ip):
    return client.post(path, {"email": email}, format="json", REMOTE_ADDR=ip)


RESEND = "/api/v1/auth/verify-email/resend/"
RESET = "/api/v1/auth/password-reset/"


def test_account_mail_to_one_address_is_limited_across_flows_and_client_addresses(
    api_client, strict
):
    # register, resend and reset share one counter per address mailed
    assert register(api_client, "inbox@example.com", "192.0.2.1").status_code == 202
    assert account_mail(api_client, RESEND, "Inbox@example.com", "192.0.2.2").status_code == 202
    limited = account_mail(api_client, RESET, "inbox@example.com", "192.0.2.3")
    assert limited.status_code == 429 and limited["Retry-After"]
    assert account_mail(api_client, RESET, "other@example.com", "192.0.2.3").status_code == 202


@pytest.mark.parametrize("path", [RESEND, RESET])
def test_account_mail_is_limited_per_client_address(api_client, strict, path):
    for n in range(4):
        assert account_mail(api_client, path, f"m{n}@example.com", "192.0.2.9").status_code == 202
    assert account_mail(api_client, path, "m9@example.com", "192.0.2.9").status_code == 429
    assert account_mail(api_client, path, "m9@example.com", "192.0.2.10").status_code == 202


def test_a_signed_in_resend_counts_against_the_callers_address(user_client, user, strict):
    for _ in range(2):
        assert user_client.post(RESEND, REMOTE_ADDR="192.0.2.5").status_code == 202
    assert user_client.post(RESEND, REMOTE_ADDR="192.0.2.6").status_code == 429
    other_ip = account_mail(user_client, RESEND, user.email, "192.0.2.7")
    assert other_ip.status_code == 429


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/verify-email/", {"token": "x"}),
        ("/api/v1/auth/password-reset/confirm/", {"token": "x", "new_password": "y"}),
    ],
)
def test_presenting_tokens_is_limited_per_client_address(api_client, strict, path, body):
    for _ in range(3):
        response = api_client.post(path, body, format="json", REMOTE_ADDR="192.0.2.20")
        assert response.status_code == 400
    assert api_client.post(path, body, format="json", REMOTE_ADDR="192.0.2.20").status_code == 429
    assert api_client.post(path, body, format="json", REMOTE_ADDR="192.0.2.21").status_code == 400


def test_the_api_is_limited_per_user(user_client, other_client, strict, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "api": "5/h"}
    for _ in range(5):
        assert user_client.get("/api/v1/auth/me/").status_code == 200
    assert user_client.get("/api/v1/auth/me/").status_code == 429
    assert other_client.get("/api/v1/auth/me/").status_code == 200


def test_limits_can_be_switched_off(api_client, strict, settings):
    settings.RATELIMIT_ENABLE = False
    for _ in range(5):
        assert attempt(api_client).status_code == 401


def test_the_proxy_hop_is_used_as_the_client_ip_when_configured(api_client, strict, settings):
    settings.NUM_PROXIES = 1
    for n in range(3):  # one email: the (address, email) pair is the lockout
        api_client.post(
            LOGIN,
            {"email": "p@x.com", "password": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR="192.0.2.7",
            REMOTE_ADDR=f"10.0.0.{n}",
        )
    blocked = api_client.post(
        LOGIN,
        {"email": "p@x.com", "password": "x"},
        format="json",
        HTTP_X_FORWARDED_FOR="192.0.2.7",
        REMOTE_ADDR="10.0.0.9",
    )
    assert blocked.status_code == 429


SECOND_PROCESS = textwrap.dedent(
    """
    import django
    django.setup()
    from django.test import RequestFactory
    from rest_framework.parsers import JSONParser
    from rest_framework.request import Request
    from taskplatform.api.throttling import LoginRateThrottle

    allowed = 0
    for n in range(3):
        raw = RequestFactory().post(
            "/api/v1/auth/login/", {"email": f"x{n}@example.com"},
            content_type="application/json", REMOTE_ADDR="198.51.100.77",
        )
        allowed += LoginRateThrottle().allow_request(Request(raw, parsers=[JSONParser()]), None)
    print(allowed)
    """
)


@pytest.mark.e2e
def test_the_limit_is_shared_by_two_processes(api_client, settings):
    """Another process spends 3 of the 5 allowed attempts; this one gets 2, then 429."""
    settings.RATELIMITS = {"auth": "5/h", "login_ip": "5/h", "login_email": "5/h", "api": "1000/h"}
    env = {
        **os.environ,
        "RATELIMIT_AUTH": "5/h",
        "RATELIMIT_LOGIN_IP": "5/h",
        "RATELIMIT_LOGIN_EMAIL": "5/h",
        "DJANGO_SETTINGS_MODULE": "taskplatform.settings.test",
    }
    done = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "3", done.stderr
    ip = "198.51.100.77"
    assert attempt(api_client, email="y1@example.com", ip=ip).status_code == 401
    assert attempt(api_client, email="y2@example.com", ip=ip).status_code == 401
    assert attempt(api_client, email="y3@example.com", ip=ip).status_code == 429


def test_limits_fail_open_when_the_cache_is_down(user_client, settings, monkeypatch, caplog):
    """A Redis outage must not turn every API call into an error (issue 11)."""
    from taskplatform.api import throttling

    settings.CACHES = {  # a real Redis client, pointed where nothing listens
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    monkeypatch.setattr(throttling._log_fail_open, "last", float("-inf"))
    with caplog.at_level("WARNING", logger="taskplatform.api.throttling"):
        for _ in range(3):
            response = user_client.get("/api/v1/tasks/")
            assert response.status_code == 200
            assert "X-RateLimit-Remaining" not in response  # nothing was counted
    records = [r for r in caplog.records if r.name == "taskplatform.api.throttling"]
    assert ["rate limits not enforced" in r.getMessage() for r in records] == [True]


LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def limit_headers(response) -> tuple[int, int, int]:
    limit, remaining, reset = (int(response[name]) for name in LIMIT_HEADERS)
    return limit, remaining, reset


def test_every_throttled_answer_says_where_the_caller_stands(user_client, strict):
    first = user_client.get("/api/v1/tasks/")
    limit, remaining, reset = limit_headers(first)
    assert (limit, remaining) == (50, 49) and 1 <= reset <= 3600
    # errors that went through the throttle count and say so too
    assert limit_headers(user_client.get("/api/v1/tasks/999999/"))[:2] == (50, 48)
    bad = user_client.post("/api/v1/tasks/", {"title": ""}, format="json")
    assert bad.status_code == 400 and limit_headers(bad)[:2] == (50, 47)
    # one counter for every endpoint the caller uses
    assert limit_headers(user_client.get("/api/v1/auth/me/"))[1] == 46


def test_a_429_says_nothing_is_left_and_when_to_come_back(user_client, strict, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "api": "2/h"}
    for remaining in (1, 0):
        assert limit_headers(user_client.get("/api/v1/tasks/"))[:2] == (2, remaining)
    limited = user_client.get("/api/v1/tasks/")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    limit, remaining, reset = limit_headers(limited)
    assert (limit, remaining) == (2, 0)
    assert reset == int(limited["Retry-After"])


def test_anonymous_callers_get_the_headers_of_their_address(api_client, strict):
    response = api_client.get("/api/schema/", REMOTE_ADDR="192.0.2.40")
    assert response.status_code == 200 and limit_headers(response)[:2] == (50, 49)
    refresh = api_client.post(
        "/api/v1/auth/refresh/", {"refresh": "x"}, format="json", REMOTE_ADDR="192.0.2.40"
    )
    assert refresh.status_code == 401 and limit_headers(refresh)[:2] == (50, 48)


ACCOUNT_CALLS = [
    (LOGIN, {"email": "a@example.com", "password": "wrong"}),
    ("/api/v1/auth/register/", {"email": "b@example.com", "password": "a-long-passphrase-1"}),
    (RESEND, {"email": "c@example.com"}),
    (RESET, {"email": "d@example.com"}),
    ("/api/v1/auth/verify-email/", {"token": "x"}),
    ("/api/v1/auth/password-reset/confirm/", {"token": "x", "new_password": "y"}),
]


@pytest.mark.parametrize(("path", "body"), ACCOUNT_CALLS)
def test_account_endpoints_tell_nothing_but_retry_after(api_client, strict, settings, path, body):
    """A guesser must not learn how many attempts are left (issue 13): no X-RateLimit-*
    headers on these endpoints at all, allowed or refused."""
    settings.RATELIMITS = dict.fromkeys(settings.RATELIMITS, "1/h")
    allowed = api_client.post(path, body, format="json", REMOTE_ADDR="192.0.2.50")
    assert allowed.status_code < 429
    limited = api_client.post(path, body, format="json", REMOTE_ADDR="192.0.2.50")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    for response in (allowed, limited):
        assert not [h for h in response.headers if h.lower().startswith("x-ratelimit")]


def test_no_headers_where_nothing_is_counted(user_client, admin_client, strict, settings):
    assert "X-RateLimit-Limit" not in admin_client.get("/admin/")
    assert "X-RateLimit-Limit" not in user_client.get("/health/live")
    settings.RATELIMIT_ENABLE = False
    assert "X-RateLimit-Limit" not in user_client.get("/api/v1/tasks/")


def test_the_tightest_limit_is_the_one_shown(rf, settings, strict):
    """A view counted against several limits shows the one with the fewest calls left."""
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from taskplatform.api.throttling import RateLimitHeadersMiddleware, _ip_key, _RateThrottle

    class TwoLimits(_RateThrottle):
        limits = (("k4-wide", _ip_key, "api"), ("k4-narrow", _ip_key, "auth"))

    class View(APIView):
        authentication_classes: list = []
        permission_classes: list = []
        throttle_classes = [TwoLimits]

        def get(self, request):
            return Response({})

    call = RateLimitHeadersMiddleware(View.as_view())
    shown = [limit_headers(call(rf.get("/x", REMOTE_ADDR="192.0.2.60")))[:2] for _ in range(4)]
    # "auth" (3/h) runs out before "api" (50/h); the 4th call is refused by it
    assert shown == [(3, 2), (3, 1), (3, 0), (3, 0)]

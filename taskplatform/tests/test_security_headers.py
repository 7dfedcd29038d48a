"""Security headers (issue 11): token responses are never cached, and every response
carries a Content-Security-Policy — strict for the API, one that fits the admin and the
API docs (checked in a real browser: they render, and nothing is refused).
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
STRICT = "default-src 'none'"


def directives(response) -> dict[str, str]:
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        policy[name] = value
    return policy


def login(client, email):
    return client.post("/api/v1/auth/login/", {"email": email, "password": PASSWORD}, format="json")


# --- Token responses: Cache-Control: no-store (RFC 6749 §5.1) ------------------------------


def no_store(response) -> None:
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def test_login_and_refresh_answers_are_never_cached(api_client):
    user = UserFactory(password=PASSWORD)
    response = login(api_client, user.email)
    assert response.status_code == 200
    no_store(response)
    refreshed = api_client.post(
        "/api/v1/auth/refresh/", {"refresh": response.json()["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200 and "access" in refreshed.json()
    no_store(refreshed)


def test_failed_token_requests_are_not_cached_either(api_client):
    no_store(login(api_client, "nobody@example.com"))
    no_store(api_client.post("/api/v1/auth/refresh/", {"refresh": "x"}, format="json"))


# --- Content-Security-Policy ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/tasks/", "/api/v1/auth/login/", "/api/v1/nope/", "/api/schema/", "/metrics"]
)
def test_api_and_other_non_page_responses_get_the_strict_policy(user_client, path):
    policy = directives(user_client.get(path))
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'" and policy["form-action"] == "'none'"


def page_policy(response) -> dict[str, str]:
    assert response.status_code == 200, response.content[:300]
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval, no other origin
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    return policy


def test_the_admin_gets_the_page_policy(admin_client):
    for response in [
        Client().get("/admin/login/"),
        admin_client.get("/admin/"),
        admin_client.get("/admin/jobs/job/"),
    ]:
        page_policy(response)
        assert "http" not in response["Content-Security-Policy"]  # nothing from elsewhere


def test_swagger_ui_loads_its_init_script_from_a_file_not_inline(api_client):
    response = api_client.get("/api/docs/")
    page_policy(response)
    assert "http" not in response["Content-Security-Policy"]
    html = response.content.decode()
    assert '<script src="/api/docs/?script="></script>' in html
    assert "SwaggerUIBundle({" not in html  # the init script is not inline
    script = api_client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle({" in script.content.decode()


def test_redoc_has_no_inline_script_and_no_google_fonts(api_client):
    response = api_client.get("/api/redoc/")
    policy = page_policy(response)
    assert "blob:" in policy["worker-src"]
    # ReDoc's bundle hard-codes its sidebar logo from its CDN: that image only
    assert policy["img-src"] == "'self' data: https://cdn.redoc.ly"
    assert response["Content-Security-Policy"].count("http") == 1
    html = response.content.decode()
    assert "googleapis" not in html and "gstatic" not in html
    assert "<script>" not in html
    assert 'spec-url="/api/schema/"' in html


def test_an_uploaded_html_file_downloads_under_the_strict_policy(user_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = SimpleUploadedFile("x.html", b"<html><script>alert(1)</script></html>", "text/html")
    created = user_client.post("/api/v1/files/", {"file": page}, format="multipart")
    assert created.status_code == 201, created.content
    download = user_client.get(f"/api/v1/files/{created.json()['id']}/download/")
    assert directives(download)["default-src"] == "'none'"


# --- In a real browser: the policy breaks nothing ------------------------------------------


# every violation is reported to the page before the console line is written
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def open_page(browser, url: str):
    page = browser.new_page()
    page.add_init_script(WATCH_VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    # the browser asks for /favicon.ico on its own; the app has none (the admin and the
    # docs name theirs), so that one 404 is not the page's
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and not r.url.endswith("/favicon.ico")
            and console.append(f"failed: {r.status} {r.url}")
        ),
    )
    page.goto(url)
    return page, console


def assert_no_violation(page, console) -> None:
    violations = page.evaluate("window.__csp")
    refused = [line for line in console if "Content Security Policy" in line]
    failed = [line for line in console if line.startswith("failed")]
    assert not violations and not refused and not failed, (violations, refused, failed)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_admin_swagger_ui_and_redoc_render_without_csp_violations(browser, live_server):
    from accounts.models import User

    User.objects.create_superuser(email="ops@example.com", password=PASSWORD)

    page, console = open_page(browser, f"{live_server.url}/admin/login/")
    # the admin's stylesheet applied: the login box is laid out, not raw HTML
    assert page.locator("#header").evaluate("el => getComputedStyle(el).display") == "flex"
    page.fill("#id_username", "ops@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard")
    page.goto(f"{live_server.url}/admin/jobs/job/add/")
    page.wait_for_selector("#job_form")
    assert_no_violation(page, console)

    page, console = open_page(browser, f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    page.wait_for_selector(".opblock-tag", timeout=20_000)  # the schema was fetched
    assert "taskplatform API" in page.locator(".info .title").inner_text()
    assert_no_violation(page, console)

    page, console = open_page(browser, f"{live_server.url}/api/redoc/")
    page.wait_for_selector("redoc .api-content h1", timeout=20_000)
    assert "taskplatform API" in page.locator("redoc .api-content h1").first.inner_text()
    assert_no_violation(page, console)

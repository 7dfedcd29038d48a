# ruff: noqa: S603, S607 - a CI driver: it starts the commands the repository itself names
"""Production smoke test: the image's path, as real processes, driven over HTTP like a user.

Run by .ci/prod-smoke (which builds the fresh venv) with the development venv's Python:

    .venv/bin/python .ci/prod_smoke.py --work DIR --venv DIR/venv

What it does, in the order a deployment does it:

1. build: copies the build context as the Dockerfile's `COPY . .` does (honouring
   .dockerignore) to DIR/app, takes the Dockerfile's ENV (its WORKDIR mapped to DIR/app)
   and runs the Dockerfile's own RUN steps after `COPY . .` (collectstatic and friends; user
   accounts aside) in the build environment: no database, no Redis, only the image's ENV;
2. services: a fresh PostgreSQL database, a private redis-server on a free port and an SMTP
   server inside this process that records every message;
3. `python manage.py migrate --noinput` (compose's migrate service), then the Procfile's
   web, worker, beat and live lines, each through /bin/sh as honcho would, with prod settings,
   as an unprivileged user when we are root (the image runs as USER app); the Dockerfile's
   HEALTHCHECK command must pass;
4. a client behind a TLS-terminating proxy: every request carries X-Forwarded-Proto: https
   and X-Forwarded-For, exactly what nginx/traefik/a load balancer in front adds
   (SECURE_SSL_REDIRECT stays on); the orchestrator's probes hit /health/* over plain HTTP;
5. register, verify the address with the emailed link, log in, upload (sha256 checked,
   downloaded back), a one-off reminder job 5 s ahead whose email must reach the SMTP
   server exactly once (and stay once for 30 s),
   the admin login page and Swagger UI with every stylesheet/script they reference (hashed
   names when the storage is the manifest one), an operator's admin login (CSRF, Secure
   cookies) with an account from `createsuperuser`,
   /api/schema/, /health/ready "ok" once the worker's and beat's heartbeats are in;
   the web app: sign in through its form (CSRF, Secure cookies), the task list with its
   hashed CSS and scripts (htmx, live.js) and a connect-src naming the live process; the live
   process: a WebSocket signed in by token hears the task created over the API and the
   reminder's run finishing;
6. no process died, no 5xx and no ERROR line in any log, every process stops on SIGTERM.

Processes are started in their own sessions; their process-group ids are appended to
DIR/pids so the bash wrapper can kill whatever is left, and their output goes to
DIR/logs/<name>.log. Exit status 0 means everything held.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import fnmatch
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
PG_HOST = os.environ.get("SMOKE_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("SMOKE_PG_PORT", "5432")
PG_USER = os.environ.get("SMOKE_PG_USER", "postgres")
PG_DB = os.environ.get("SMOKE_PG_DB", "taskplatform_smoke")
RUNTIME_USER = "nobody"  # stands in for the image's USER when we are root
T0 = time.monotonic()
ADMINS = "ops@example.com"  # gets Django's error reports: none may arrive
BAD_HOST = "not-allowed.example"  # Django logs the refusal at ERROR: expected, ignored below


class SmokeFailure(Exception):
    pass


def say(message: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {message}", flush=True)


def check(condition, message: str) -> None:
    """`message` is "what must hold: details for the failure"; the part before ':' on success."""
    if not condition:
        raise SmokeFailure(message)
    what = re.split(r":(?:\s|$)", message, maxsplit=1)[0]
    say(f"ok   {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the Dockerfile, read rather than restated ---------------------------------------------


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    return instructions


class Image:
    """What the Dockerfile says: ENV, WORKDIR, USER, HEALTHCHECK and the build steps that follow
    `COPY . .` (collectstatic and its companions), with WORKDIR mapped to our app folder."""

    USER_MANAGEMENT = ("useradd", "groupadd", "adduser", "addgroup", "usermod")

    def __init__(self, dockerfile: Path, app_dir: Path) -> None:
        self.workdir = "/"
        self.env: dict[str, str] = {}
        self.build_steps: list[str] = []  # shell commands, in order
        self.user = None
        self.healthcheck: str | list[str] | None = None
        self.app_dir = app_dir
        copied = False
        for keyword, args in dockerfile_instructions(dockerfile):
            if keyword == "WORKDIR":
                self.workdir = args
            elif keyword == "ENV":
                words = shlex.split(args)
                if words and "=" not in words[0]:  # legacy "ENV KEY value"
                    self.env[words[0]] = " ".join(words[1:])
                else:
                    for word in words:
                        key, _, value = word.partition("=")
                        self.env[key] = value
            elif keyword in ("COPY", "ADD") and [
                word for word in args.split() if not word.startswith("--")
            ][:1] == ["."]:
                copied = True
            elif keyword == "RUN" and copied:
                self.build_steps += [step.strip() for step in args.split("&&") if step.strip()]
            elif keyword == "USER":
                self.user = args
            elif keyword == "HEALTHCHECK":
                _, found, command = args.partition("CMD ")
                if found:
                    command = command.strip()
                    self.healthcheck = json.loads(command) if command.startswith("[") else command
        self.env = {key: self.map_path(value) for key, value in self.env.items()}
        if not any("collectstatic" in step for step in self.build_steps):
            raise SmokeFailure("Dockerfile: no RUN step after `COPY . .` runs collectstatic")

    def map_path(self, text: str) -> str:
        """The image's WORKDIR (/app) is our app folder."""
        if self.workdir in ("", "/"):
            return text
        return re.sub(re.escape(self.workdir) + r"(?=/|\b|$)", str(self.app_dir), text)

    def build(self, procs: Processes, env: dict[str, str], runtime_user: str | None) -> None:
        """Each build step as the image's build runs it (as root, in WORKDIR); user accounts
        are not made (`runtime_user` stands in), chown hands the paths to `runtime_user`."""
        for step in self.build_steps:
            words = shlex.split(step)
            command = words[0] if words else ""
            if command in self.USER_MANAGEMENT:
                say(f"skip {step}  ({runtime_user or 'this user'} stands in)")
                continue
            mapped = self.map_path(step)
            outside = [
                word
                for word in shlex.split(mapped)
                if word.startswith("/") and not word.startswith(str(self.app_dir))
            ]
            if outside:
                raise SmokeFailure(
                    f"Dockerfile step {step!r} touches {outside} outside WORKDIR: teach "
                    ".ci/prod_smoke.py how to mimic it"
                )
            if command == "chown":
                if runtime_user:
                    paths = [w for w in shlex.split(mapped)[1:] if w.startswith("/")]
                    subprocess.run(["chown", "-R", runtime_user, *paths], check=True)
                    say(f"ok   {step}  (as chown -R {runtime_user})")
                continue
            name = "collectstatic" if "collectstatic" in step else "build"
            procs.run(name, mapped, env=env, cwd=self.app_dir, timeout=120, label=step)


def copy_build_context(src: Path, dst: Path) -> None:
    """`COPY . .` with .dockerignore's patterns (root-anchored; `**/` matches any depth)."""
    ignore_file = src / ".dockerignore"
    patterns = [
        line.strip().rstrip("/")
        for line in (ignore_file.read_text().splitlines() if ignore_file.exists() else [])
        if line.strip() and not line.startswith("#")
    ]

    def ignored(rel: str) -> bool:
        for pattern in patterns:
            if pattern.startswith("!"):
                continue  # exceptions: not used here; keep the file (safe side)
            if fnmatch.fnmatchcase(rel, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatchcase(rel.split("/")[-1], pattern[3:]):
                return True
        return False

    def ignore(directory: str, names: list[str]) -> set[str]:
        rel_dir = os.path.relpath(directory, src)
        prefix = "" if rel_dir == "." else rel_dir + "/"
        return {name for name in names if ignored(prefix + name)}

    shutil.copytree(src, dst, ignore=ignore, symlinks=True)


def procfile(path: Path) -> dict[str, str]:
    processes = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not command.strip():
            raise SmokeFailure(f"Procfile: can't parse line {line!r}")
        processes[name.strip()] = command.strip()
    missing = {"web", "worker", "beat", "live"} - processes.keys()
    if missing:
        raise SmokeFailure(f"Procfile: no {', '.join(sorted(missing))} process")
    return processes


# --- processes ------------------------------------------------------------------------------


class Processes:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.running: dict[str, subprocess.Popen] = {}
        self.live: set[int] = set()  # process groups started and not yet reaped
        self.smtp: Controller | None = None

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def run(self, name, cmd, *, env, cwd, timeout, user=None, label=None) -> None:
        """A one-shot command; its output goes to logs/<name>.log; non-zero exit fails."""
        started = time.monotonic()
        proc = self._spawn(name, cmd, env=env, cwd=cwd, user=user)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise SmokeFailure(f"{name}: still running after {timeout} s") from None
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # anything it left behind
            self._forget(proc)
        if code != 0:
            raise SmokeFailure(f"{name}: exit status {code} (see its log)")
        say(f"ok   {label or name} ({time.monotonic() - started:.1f} s)")

    def start(self, name, cmd, *, env, cwd, user=None) -> None:
        """A long-running process. A simple command line is split into words as compose does
        with `command:`, so the process itself gets the signals (docker stop's SIGTERM goes
        to it alone); anything needing a shell runs through /bin/sh as honcho would."""
        if isinstance(cmd, str) and not re.search(r"[|&;<>()$`\\\"'*?\[\]#~{}]", cmd):
            cmd = shlex.split(cmd)
        proc = self._spawn(name, cmd, env=env, cwd=cwd, user=user)
        self.running[name] = proc
        say(f"started {name} (pid {proc.pid}): {cmd if isinstance(cmd, str) else shlex.join(cmd)}")

    def _spawn(self, name, cmd, *, env, cwd, user) -> subprocess.Popen:
        """Start `cmd` in a process group of its own, its output appended to its log."""
        with open(self.log_path(name), "ab") as log:
            proc = subprocess.Popen(
                cmd,
                env=env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
                shell=isinstance(cmd, str),
            )
        self._record(proc)
        return proc

    def _record(self, proc: subprocess.Popen) -> None:
        self.live.add(proc.pid)
        self._write_pids()

    def _forget(self, proc: subprocess.Popen) -> None:
        self.live.discard(proc.pid)
        self._write_pids()

    def _write_pids(self) -> None:
        """The groups still to be stopped, for the wrapper's trap should this process die."""
        tmp = self.work / "pids.tmp"
        tmp.write_text("".join(f"{pid}\n" for pid in sorted(self.live)))
        tmp.replace(self.work / "pids")

    def assert_alive(self) -> None:
        for name, proc in self.running.items():
            code = proc.poll()
            if code is not None:
                raise SmokeFailure(f"{name} exited (status {code}) while the test ran")

    def stop(self, names, timeout=20.0) -> list[str]:
        """SIGTERM to each process (what `docker stop` sends), then SIGKILL to its whole group
        (pool children, stragglers). Returns those that outlived `timeout` seconds."""
        signalled = set()
        for name in names:
            proc = self.running.get(name)
            if proc and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                    signalled.add(name)
        deadline = time.monotonic() + timeout
        slow = []
        for name in names:
            proc = self.running.get(name)
            if not proc:
                continue
            try:
                code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                if name in signalled and name != "redis":
                    say(f"{name} exited with status {code} on SIGTERM")
            except subprocess.TimeoutExpired:
                slow.append(name)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group (pool children)
            proc.wait()
            self._forget(proc)
        return slow

    def stop_all(self) -> None:
        self.stop(list(self.running), timeout=10.0)


# --- SMTP: a real server in this process that keeps every message ----------------------------


class Mailbox:
    def __init__(self, log_path: Path) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.log_path = log_path

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        with open(self.log_path, "a") as log:
            log.write(
                f"===== {datetime.now(UTC).isoformat()} MAIL FROM {envelope.mail_from} "
                f"RCPT TO {','.join(envelope.rcpt_tos)}\n"
                f"{envelope.content.decode('utf-8', 'replace')}\n"
            )
        return "250 Message accepted"

    def matching(self, needle: str) -> list[email.message.EmailMessage]:
        with self.lock:
            found = []
            for message in self.messages:
                body = message.get_body(preferencelist=("plain",))
                text = body.get_content() if body else ""
                if needle in str(message["subject"]) or needle in text:
                    found.append(message)
            return found

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["to"])]


# --- HTTP: a client behind a TLS proxy --------------------------------------------------------


class AssetLinks(HTMLParser):
    """Stylesheets and scripts a page loads (<link rel=stylesheet href>, <script src>)."""

    def __init__(self) -> None:
        super().__init__()
        self.css: list[str] = []
        self.js: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "").split() and attrs.get("href"):
            self.css.append(attrs["href"])
        if tag == "script" and attrs.get("src"):
            self.js.append(attrs["src"])


class Client:
    """A user behind the TLS proxy. The proxy (this process, from 127.0.0.1) terminated
    https://localhost and passes on Host, X-Forwarded-Proto and X-Forwarded-For, as nginx,
    traefik or a cloud load balancer do; `browser=True` requests also carry the cookies a
    browser would (it keeps Secure cookies: the user's side is https)."""

    PUBLIC = "https://localhost"

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.proxy_headers = {
            "Host": "localhost",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "198.51.100.23",
        }
        self.token = None
        self.cookies: dict[str, SimpleCookie] = {}

    def request(self, method, path, *, expect=None, auth=True, browser=False, **kwargs):
        headers = {**self.proxy_headers, **kwargs.pop("headers", {})}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if browser and self.cookies:
            headers["Cookie"] = "; ".join(f"{n}={m[n].value}" for n, m in self.cookies.items())
        path = path.removeprefix(self.PUBLIC)
        try:
            response = requests.request(
                method,
                self.base + path,
                headers=headers,
                timeout=30,
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise SmokeFailure(f"{method} {path}: {exc}") from exc
        if browser:
            for header in response.raw.headers.getlist("Set-Cookie"):
                cookie = SimpleCookie(header)
                for name in cookie:
                    self.cookies[name] = cookie
        if expect is not None and response.status_code != expect:
            raise SmokeFailure(
                f"{method} {path}: expected {expect}, got {response.status_code}: "
                f"{response.text[:800]}"
            )
        return response

    def probe(self, path, host=None):
        """What an orchestrator's probe does: plain HTTP to the container, no proxy headers."""
        headers = {"Host": host} if host else {}
        try:
            return requests.get(
                self.base + path, headers=headers, timeout=10, allow_redirects=False
            )
        except requests.RequestException:
            return None


# --- the test -----------------------------------------------------------------------------------


def verify_address(client: Client, procs: Processes, mailbox: Mailbox, address: str) -> None:
    """What a new user does: open the verification email, follow its link (the page only
    shows a button) and confirm — here the token goes to the API, as the page's POST would."""
    deadline = time.monotonic() + 60
    while not (mails := [m for m in mailbox.to(address) if "Verify" in str(m["subject"])]):
        procs.assert_alive()
        if time.monotonic() > deadline:
            raise SmokeFailure(f"no verification email reached {address} within 60 s")
        time.sleep(0.2)
    text = mails[0].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"(\S+/verify-email/)\?token=(\S+)", text)
    check(
        link is not None and link.group(1) == f"{Client.PUBLIC}/verify-email/",
        f"the verification email links to {Client.PUBLIC}/verify-email/: {text[:400]}",
    )
    page = client.request("GET", f"{link.group(1)}?token={link.group(2)}", browser=True)
    check(
        page.status_code == 200 and 'name="token"' in page.text,
        f"the verification link opens a page with its button: {page.status_code}",
    )
    client.request("POST", "/api/v1/auth/verify-email/", expect=200, json={"token": link.group(2)})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (logs, app copy)")
    parser.add_argument("--venv", type=Path, required=True, help="venv with requirements.txt only")
    args = parser.parse_args()
    work, venv = args.work.resolve(), args.venv.resolve()
    procs = Processes(work)

    def terminated(signum, frame):
        raise SmokeFailure(f"interrupted by signal {signum}")

    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGINT, terminated)
    try:
        smoke(work, venv, procs)
        return 0
    except SmokeFailure as failure:
        say(f"FAIL {failure}")
        return 1
    finally:
        procs.stop_all()
        if procs.smtp:
            procs.smtp.stop()


def smoke(work: Path, venv: Path, procs: Processes) -> None:
    app = work / "app"
    image = Image(ROOT / "Dockerfile", app)
    processes = procfile(ROOT / "Procfile")

    # --- 1. build ------------------------------------------------------------------------------
    copy_build_context(ROOT, app)
    check(not (app / ".env").exists(), "the build context has no .env")
    system_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    home = work / "home"
    home.mkdir(exist_ok=True)
    build_env = {
        "PATH": f"{venv}/bin:{system_path}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **image.env,
    }
    # the image runs as USER app (uid 10001) owning only /app/var; we are root: use nobody
    user = None
    if os.geteuid() == 0 and image.user not in (None, "root", "0"):
        for path in (work, app):
            path.chmod(0o755)
        try:
            usable = subprocess.run(
                [venv / "bin" / "python", "-c", "import django"],
                user=RUNTIME_USER,
                capture_output=True,
                timeout=60,
            )
        except (KeyError, OSError):  # no such user; the interpreter is out of its reach
            usable = None
        if usable is not None and usable.returncode == 0:
            user = RUNTIME_USER
            say(f"runtime processes run as {RUNTIME_USER!r} (the image's USER {image.user})")
        else:
            say(f"note {RUNTIME_USER!r} can't run {venv}/bin/python: the app runs as root")
    image.build(procs, build_env, user)
    if user:
        subprocess.run(["chown", "-R", RUNTIME_USER, str(home)], check=True)

    # --- 2. services ---------------------------------------------------------------------------
    psql = ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-v", "ON_ERROR_STOP=1", "-qc"]
    quiet = {**os.environ, "PGOPTIONS": "--client-min-messages=warning"}
    subprocess.run(
        [*psql, f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'], check=True, env=quiet
    )
    subprocess.run([*psql, f'CREATE DATABASE "{PG_DB}"'], check=True, env=quiet)
    say(f"ok   fresh PostgreSQL database {PG_DB}")

    redis_port = free_port()
    redis_dir = work / "redis"
    redis_dir.mkdir()
    procs.start(
        "redis",
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(redis_port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(redis_dir),
        ],
        env={"PATH": system_path},
        cwd=redis_dir,
    )
    for _ in range(50):
        if (
            subprocess.run(
                ["redis-cli", "-p", str(redis_port), "ping"], capture_output=True, text=True
            ).stdout.strip()
            == "PONG"
        ):
            break
        time.sleep(0.1)
    else:
        raise SmokeFailure("redis-server did not answer PING")

    mailbox = Mailbox(procs.log_path("smtp"))
    smtp_port = free_port()
    procs.smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    procs.smtp.start()
    say(f"ok   Redis on :{redis_port}, SMTP on :{smtp_port}")

    # --- 3. migrate, then the Procfile --------------------------------------------------------
    web_port, live_port = free_port(), free_port()
    # the production .env of docs/operations.md's "Running in production", pointed at our services
    runtime_env = {
        **build_env,
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "SITE_URL": Client.PUBLIC,
        "SECURE_SSL_REDIRECT": "true",
        "SESSION_COOKIE_SECURE": "true",
        "CSRF_COOKIE_SECURE": "true",
        "NUM_PROXIES": "1",  # the TLS proxy appends the client to X-Forwarded-For
        "FORWARDED_ALLOW_IPS": "*",  # gunicorn trusts the proxy's X-Forwarded-*
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "DEFAULT_FROM_EMAIL": "taskplatform <noreply@example.com>",
        "ADMINS": ADMINS,
        "DATABASE_URL": f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        # the one departure: the image listens on 0.0.0.0 inside its own network namespace;
        # this machine is shared, so the proxy (us) reaches it on 127.0.0.1
        "HOST": "127.0.0.1",
        "PORT": str(web_port),
        "LIVE_PORT": str(live_port),
    }
    # a variant to try, e.g. PROD_SMOKE_ENV="WEB_THREADS=4 WEB_CONCURRENCY=3"
    for word in shlex.split(os.environ.get("PROD_SMOKE_ENV", "")):
        key, _, value = word.partition("=")
        runtime_env[key] = value
        say(f"note {key}={value} (PROD_SMOKE_ENV)")
    configured = settings_as_run(runtime_env, app, user)
    check(configured["DEBUG"] is False, f"prod settings: DEBUG is {configured['DEBUG']}")
    static_root = Path(configured["STATIC_ROOT"])
    check(
        (static_root / "admin" / "css" / "base.css").exists(),
        f"the build collected the admin's CSS where the runtime serves it from: nothing at "
        f"{static_root}/admin/css/base.css",
    )
    manifest = None
    if "Manifest" in configured["STATICFILES_BACKEND"]:
        manifest_path = static_root / "staticfiles.json"
        check(manifest_path.exists(), f"the build wrote {manifest_path}: missing")
        manifest = json.loads(manifest_path.read_text())["paths"]
    say(f"static files: {configured['STATICFILES_BACKEND']} in {static_root}")

    procs.run(
        "migrate",
        "python manage.py migrate --noinput",
        env=runtime_env,
        cwd=app,
        timeout=180,
        user=user,
    )
    procs.run(
        "check-deploy",
        "python manage.py check --deploy --fail-level WARNING",
        env=runtime_env,
        cwd=app,
        timeout=60,
        user=user,
    )
    # docs/operations.md, Running in production:
    # `docker compose run --rm web python manage.py createsuperuser`
    admin_email, admin_password = "admin@example.com", secrets.token_urlsafe(18)
    procs.run(
        "createsuperuser",
        f"python manage.py createsuperuser --noinput --email {admin_email}",
        env={**runtime_env, "DJANGO_SUPERUSER_PASSWORD": admin_password},
        cwd=app,
        timeout=60,
        user=user,
    )
    for name in ("web", "worker", "beat", "live"):
        procs.start(name, processes[name], env=runtime_env, cwd=app, user=user)

    client = Client(web_port)
    deadline = time.monotonic() + 60
    while True:
        procs.assert_alive()
        response = client.probe("/health/live")
        if response is not None and response.status_code == 200:
            break
        if time.monotonic() > deadline:
            raise SmokeFailure("/health/live never answered 200 within 60 s")
        time.sleep(0.3)
    say("ok   web answers /health/live")
    if image.healthcheck:
        procs.run("healthcheck", image.healthcheck, env=runtime_env, cwd=app, timeout=10, user=user)
    # an orchestrator probes the pod/container address, which ALLOWED_HOSTS does not list
    for path in ("/health/live", "/health/ready"):
        response = client.probe(path, host="10.11.12.13:8000")
        check(
            response is not None and response.status_code in (200, 503),
            f"{path} answers a probe whatever its Host: "
            f"{response.status_code if response is not None else 'no answer'}",
        )

    # --- 4. prod settings are in force -------------------------------------------------------
    plain = client.probe("/api/v1/auth/me/", host="localhost")
    location = plain.headers.get("Location", "") if plain is not None else None
    check(
        plain is not None and plain.status_code == 301 and location.startswith(Client.PUBLIC),
        f"plain HTTP without the proxy's header is redirected to https: got "
        f"{plain.status_code if plain is not None else None} {location}",
    )
    bad_host = client.request("GET", "/api/v1/auth/me/", headers={"Host": BAD_HOST})
    check(
        bad_host.status_code == 400,
        f"a Host outside ALLOWED_HOSTS is refused: got {bad_host.status_code}",
    )

    # --- 5. a user's morning ------------------------------------------------------------------
    email_address = f"smoke-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(18)
    client.request(
        "POST",
        "/api/v1/auth/register/",
        expect=202,
        json={
            "email": email_address,
            "password": password,
            "full_name": "Smoke Test",
        },
    )
    verify_address(client, procs, mailbox, email_address)
    tokens = client.request(
        "POST",
        "/api/v1/auth/login/",
        expect=200,
        json={
            "email": email_address,
            "password": password,
        },
    )
    client.token = tokens.json()["access"]
    # signed in to the live process before anything happens that it must tell of
    live = live_socket(live_port, client.token)
    me = client.request("GET", "/api/v1/auth/me/", expect=200).json()
    check(me["email"] == email_address, f"register, login, me: me is {me}")
    check(
        "max-age"
        in client.request("GET", "/api/v1/auth/me/").headers.get("Strict-Transport-Security", ""),
        "HSTS on https answers: missing",
    )

    content = os.urandom(64 * 1024) + b"prod-smoke\n"
    digest = hashlib.sha256(content).hexdigest()
    uploaded = client.request(
        "POST",
        "/api/v1/files/",
        expect=201,
        files={"file": ("smoke.bin", content, "application/octet-stream")},
        data={"sha256": digest},
    ).json()
    check(
        uploaded["sha256"] == digest and uploaded["size"] == len(content),
        f"upload: stored {uploaded}",
    )
    check(
        uploaded["download_url"].startswith(Client.PUBLIC + "/"),
        f"absolute links name the public https address: {uploaded['download_url']}",
    )
    downloaded = client.request("GET", uploaded["download_url"], expect=200)
    check(downloaded.content == content, "download: the bytes came back different")

    token = secrets.token_hex(6)
    message = f"prod-smoke reminder {token}"
    run_at = (datetime.now(timezone(timedelta(hours=2))) + timedelta(seconds=6)).replace(
        microsecond=0
    )  # ~5 s ahead, with a non-UTC offset
    job = client.request(
        "POST",
        "/api/v1/jobs/",
        expect=201,
        json={
            "name": "smoke reminder",
            "kind": "reminder",
            "params": {"message": message},
            "schedule": {"type": "once", "run_at": run_at.isoformat()},
        },
    ).json()
    check(job["status"] == "active", f"one-off reminder job created for {run_at.isoformat()}")

    # --- 6. what an operator sees (while the reminder waits) -----------------------------------
    login_path = "/admin/login/?next=/admin/"
    login_page = client.request("GET", login_path, expect=200, browser=True)
    check("text/html" in login_page.headers.get("Content-Type", ""), "admin login page is HTML")
    css, js = fetch_assets("/admin/login/", client, login_page, manifest)
    admin_css = [url for url in css if "/admin/css/" in url]
    check(admin_css, f"the admin login page links the admin's CSS: it links {css}")
    say(f"ok   admin login page and its {len(css)} CSS + {len(js)} JS: {', '.join(admin_css)}")
    # an operator logs in through the proxy: CSRF (Origin/Referer), Secure cookies, session
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
    check(csrf and "csrftoken" in client.cookies, "the login form carries a CSRF token")
    logged_in = client.request(
        "POST",
        login_path,
        auth=False,
        browser=True,
        headers={"Origin": client.PUBLIC, "Referer": client.PUBLIC + login_path},
        data={
            "csrfmiddlewaretoken": csrf.group(1),
            "username": admin_email,
            "password": admin_password,
            "next": "/admin/",
        },
    )
    check(
        logged_in.status_code == 302 and logged_in.headers.get("Location") == "/admin/",
        f"admin login through the TLS proxy: {logged_in.status_code} "
        f"{logged_in.headers.get('Location')} {logged_in.text[:500]}",
    )
    insecure = [name for name, cookie in client.cookies.items() if not cookie[name]["secure"]]
    check(not insecure, f"session and CSRF cookies are Secure: {insecure} are not")
    dashboard = client.request("GET", "/admin/", expect=200, auth=False, browser=True)
    check(admin_email in dashboard.text, "the admin index shows the operator logged in")
    fetch_assets("/admin/", client, dashboard, manifest)
    # every list and add page the index links to: a {% static %} name missing from the
    # manifest is a 500 in production only (development serves files without one)
    pages = sorted(set(re.findall(r'href="(/admin/[a-z_]+/[a-z_]+/(?:add/)?)"', dashboard.text)))
    check(pages, "the admin index links its models")
    changes = []
    for page in pages:
        response = client.request("GET", page, expect=200, auth=False, browser=True)
        fetch_assets(page, client, response, manifest)
        first = re.search(rf'href="({re.escape(page)}\d+/change/)', response.text)
        if first:  # and the first row's change form (the user, the file, the job, ...)
            changes.append(first.group(1))
    for page in changes:
        response = client.request("GET", page, expect=200, auth=False, browser=True)
        fetch_assets(page, client, response, manifest)
    say(f"ok   {len(pages) + len(changes)} admin list, add and change pages with their CSS and JS")

    for page in ("/api/docs/", "/api/redoc/"):
        response = client.request("GET", page, expect=200)
        css, js = fetch_assets(page, client, response, manifest)
        check(js, f"{page} loads its UI from this server: it loads {js}")
        say(f"ok   {page} and its {len(css)} CSS + {len(js)} JS")
    # /metrics: not for the public behind the proxy; loopback (a scraper beside it) may read
    public = client.request("GET", "/metrics", auth=False)
    check(public.status_code == 403, f"/metrics refused to the public: {public.status_code}")
    local = client.probe("/metrics")
    check(
        local is not None and local.status_code == 200 and "http_requests_total" in local.text,
        f"/metrics served on loopback: {local.status_code if local is not None else None}",
    )
    schema = client.request("GET", "/api/schema/?format=json", expect=200).json()
    check(
        schema.get("openapi", "").startswith("3.") and "/api/v1/jobs/" in schema["paths"],
        "/api/schema/ is the OpenAPI document",
    )

    web_app(client, manifest, email_address, password, live_port)
    title = f"smoke task {secrets.token_hex(4)}"
    client.request("POST", "/api/v1/tasks/", expect=201, json={"title": title})
    created = live_event(live, lambda e: e["type"] == "task.created")
    check(created["data"]["title"] == title, f"the live process told of the new task: {created}")
    say("ok   the live process: a token's WebSocket hears the task created over the API")

    deadline = time.monotonic() + 60
    while True:
        procs.assert_alive()
        response = client.probe("/health/ready")
        body = (
            response.json() if response is not None and response.status_code in (200, 503) else None
        )
        if response is not None and response.status_code == 200 and body["status"] == "ok":
            break
        if time.monotonic() > deadline:
            raise SmokeFailure(
                f"/health/ready not ok within 60 s: "
                f"{response.status_code if response else None} {body}"
            )
        time.sleep(0.5)
    check(True, f"/health/ready 200 ok: {body['components']}")

    # --- 7. the reminder arrives, once --------------------------------------------------------
    deadline = time.monotonic() + max(0.0, (run_at - datetime.now(UTC)).total_seconds()) + 60
    while not mailbox.matching(token):
        procs.assert_alive()
        if time.monotonic() > deadline:
            runs = client.request("GET", f"/api/v1/jobs/{job['id']}/runs/").text
            raise SmokeFailure(
                f"the reminder email never arrived (60 s after run_at); runs: {runs[:800]}"
            )
        time.sleep(0.2)
    arrived = time.monotonic()
    lag = (datetime.now(UTC) - run_at).total_seconds()
    say(f"ok   reminder email arrived {lag:.1f} s after run_at")
    reminder = mailbox.matching(token)[0]
    check(
        email_address in str(reminder["to"]) and str(reminder["subject"]).startswith("Reminder"),
        f"the reminder is addressed to the user: to={reminder['to']} subject={reminder['subject']}",
    )

    deadline = time.monotonic() + 15
    while True:
        runs = client.request("GET", f"/api/v1/jobs/{job['id']}/runs/", expect=200).json()
        if runs["count"] == 1 and runs["results"][0]["status"] == "succeeded":
            break
        if time.monotonic() > deadline:
            raise SmokeFailure(f"the job's one run did not succeed: {runs}")
        time.sleep(0.5)
    job_now = client.request("GET", f"/api/v1/jobs/{job['id']}/", expect=200).json()
    check(job_now["status"] == "completed", f"one run, succeeded; job completed: {job_now}")
    finished = live_event(live, lambda e: e["type"] == "run.finished")
    check(
        finished["data"]["status"] == "succeeded", f"the live process told of the run: {finished}"
    )
    live.close()
    say("ok   the live process: the reminder's run.finished reached the WebSocket")

    say("waiting 30 s for a duplicate…")
    # meanwhile an operator's command re-hashes the upload from another process
    procs.run(
        "verify_files",
        f"python manage.py verify_files --no-progress --owner {email_address}",
        env=runtime_env,
        cwd=app,
        timeout=60,
        user=user,
    )
    while time.monotonic() < arrived + 30:
        procs.assert_alive()
        time.sleep(1)
    count = len(mailbox.matching(token))
    check(count == 1, f"the reminder email arrived exactly once: {count} copies")
    welcomes = [m for m in mailbox.to(email_address) if "welcome" in str(m["subject"]).lower()]
    check(len(welcomes) == 1, f"one welcome email: {len(welcomes)}")
    final_runs = client.request("GET", f"/api/v1/jobs/{job['id']}/runs/", expect=200).json()
    check(final_runs["count"] == 1, f"still one run: {final_runs}")

    # --- 8. the processes: alive, no errors, stop on SIGTERM ------------------------------------
    procs.assert_alive()
    slow = procs.stop(["web", "beat", "worker", "live"])
    check(not slow, f"web, worker, beat and live stop on SIGTERM within 20 s: {slow} did not")
    problems = []
    for name in ("migrate", "web", "worker", "beat", "live"):
        problems += [f"{name}: {line}" for line in log_problems(procs.log_path(name))]
    check(not problems, "no 5xx, ERROR or traceback in the logs: \n  " + "\n  ".join(problems[:30]))
    # Django mails ADMINS every error it logs (500s included)
    reports = [str(m["subject"]) for m in mailbox.to(ADMINS)]
    check(not reports, f"no error report mailed to ADMINS: {reports}")
    subprocess.run([*psql, f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'], env=quiet)


def web_app(client: Client, manifest, email_address: str, password: str, live_port: int) -> None:
    """The end users' web app through the TLS proxy: its sign-in form (CSRF, Secure
    cookies), then the task list with its hashed CSS and scripts and a Content-Security-
    Policy whose connect-src names the live process's wss:// address."""
    client.cookies.clear()  # a user's own browser, not the operator's
    login = client.request("GET", "/app/login/", expect=200, browser=True)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
    check(csrf is not None, "the web app's sign-in form carries a CSRF token")
    signed_in = client.request(
        "POST",
        "/app/login/",
        auth=False,
        browser=True,
        headers={"Origin": client.PUBLIC, "Referer": client.PUBLIC + "/app/login/"},
        data={"csrfmiddlewaretoken": csrf.group(1), "email": email_address, "password": password},
    )
    check(
        signed_in.status_code == 302 and signed_in.headers.get("Location") == "/app/",
        f"web app sign-in: {signed_in.status_code} {signed_in.headers.get('Location')}",
    )
    tasks = client.request("GET", "/app/tasks/", expect=200, auth=False, browser=True)
    css, js = fetch_assets("/app/tasks/", client, tasks, manifest)
    scripts = " ".join(js)
    check(
        "htmx" in scripts and "live" in scripts and css,
        f"the task list loads its CSS, htmx and live.js: {css} {js}",
    )
    policy = tasks.headers.get("Content-Security-Policy", "")
    check(
        f"wss://localhost:{live_port}" in policy,
        f"the pages may connect to the live process: {policy}",
    )
    say(f"ok   web app: signed in through its form, the task list and its {len(js)} scripts")


def live_socket(port: int, token: str):
    """A WebSocket to the live process, signed in by the API's access token, past its hello."""
    from websockets.sync.client import connect

    deadline = time.monotonic() + 60
    while True:  # the process may still be starting
        try:
            ws = connect(
                f"ws://127.0.0.1:{port}/ws/",
                additional_headers={"Authorization": f"Bearer {token}"},
                open_timeout=20,
            )
            break
        except OSError as exc:
            if time.monotonic() > deadline:
                raise SmokeFailure(f"the live process never answered on :{port}: {exc}") from exc
            time.sleep(0.5)
    hello = json.loads(ws.recv(timeout=10))
    check(hello.get("type") == "live.hello", f"the live process says hello: {hello}")
    return ws


def live_event(ws, wanted, timeout: float = 20.0) -> dict:
    """The first event `wanted` accepts, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SmokeFailure("the live process sent no such event within the time")
        try:
            message = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            continue
        if "id" in message and wanted(message):
            return message


SETTINGS_PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({"DEBUG": s.DEBUG, "STATIC_ROOT": str(s.STATIC_ROOT),
                  "STATICFILES_BACKEND": s.STORAGES["staticfiles"]["BACKEND"]}))
"""


def settings_as_run(env, cwd, user) -> dict:
    """The settings the processes will run with, as they load them."""
    result = subprocess.run(
        ["python", "-c", SETTINGS_PROBE],
        env=env,
        cwd=cwd,
        user=user,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise SmokeFailure(f"prod settings don't load:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


FETCHED: set[str] = set()  # asset URLs already checked


def fetch_assets(page, client: Client, response, manifest) -> tuple[list[str], list[str]]:
    """GET every stylesheet and script `page` loads from this server: 200, the right type,
    and (with the manifest storage) hashed names collectstatic wrote. Returns their URLs."""
    links = AssetLinks()
    links.feed(response.text)
    ours = urlsplit(client.PUBLIC).netloc
    hashed_names = set(manifest.values()) if manifest else set()
    found: dict[str, list[str]] = {"css": [], "js": []}
    for kind, hrefs in (("css", links.css), ("js", links.js)):
        for href in hrefs:
            url = urljoin(client.PUBLIC + page, href)
            if urlsplit(url).netloc != ours:
                raise SmokeFailure(f"{page} loads {href} from another site")
            found[kind].append(urlsplit(url).path)
            if url in FETCHED:
                continue
            FETCHED.add(url)
            asset = client.request("GET", url, expect=200, auth=False, browser=True)
            content_type = asset.headers.get("Content-Type", "")
            wanted = "text/css" if kind == "css" else "javascript"
            if wanted not in content_type:
                raise SmokeFailure(f"{page}: {href} served as {content_type!r}, not {wanted}")
            path = urlsplit(url).path
            name = path.removeprefix("/static/") if path.startswith("/static/") else None
            if manifest is not None and name is not None and name not in hashed_names:
                raise SmokeFailure(f"{page}: {href} is not a hashed name in staticfiles.json")
    return found["css"], found["js"]


def log_problems(path: Path) -> list[str]:
    if not path.exists():
        return []
    problems = []
    for line in path.read_text(errors="replace").splitlines():
        if "DisallowedHost" in line and BAD_HOST in line:
            continue  # our own deliberate bad-Host request
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            status = record.get("status")
            server_error = isinstance(status, int) and status >= 500
            if server_error or str(record.get("level", "")).upper() in ("ERROR", "CRITICAL"):
                problems.append(line[:400])
        elif line.startswith("Traceback") or re.search(r"\b(ERROR|CRITICAL)[/:\]]", line):
            problems.append(line[:400])
    return problems


if __name__ == "__main__":
    sys.exit(main())

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from notifications import delivery
from taskplatform.testing import free_port
from taskplatform.testing.fixtures import RecordingHandler

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def _fresh_mail_connection() -> Iterator[None]:
    delivery.close_connection()
    yield
    delivery.close_connection()


# --- SMTPS: an SMTP server speaking TLS from the first byte, with a certificate of a test CA ---


@dataclass(frozen=True)
class TestCertificates:
    ca: Path  # the test CA's certificate: what a client must trust
    cert: Path  # the server's certificate for 127.0.0.1, signed by the CA
    key: Path  # the server's private key

    __test__ = False  # (not a test class)


def _pem(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def test_certificates(tmp_path: Path) -> TestCertificates:
    """A CA made for this test, and a certificate it signed for IP 127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    valid = {"not_valid_before": now - datetime.timedelta(minutes=5)}
    valid["not_valid_after"] = now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "taskplatform test CA")])
    ca_cert = (
        x509.CertificateBuilder(**valid)
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder(**valid)
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return TestCertificates(
        ca=_pem(tmp_path / "ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM)),
        cert=_pem(tmp_path / "server.pem", cert.public_bytes(serialization.Encoding.PEM)),
        key=_pem(
            tmp_path / "server.key",
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        ),
    )


class TlsRecordingHandler(RecordingHandler):
    """The shared SMTP handler, also noting the TLS version each message came over."""

    def __init__(self) -> None:
        super().__init__()
        self.tls_versions: list[str | None] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        ssl_object = server.transport.get_extra_info("ssl_object")
        self.tls_versions.append(ssl_object.version() if ssl_object else None)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtps_server(
    settings: Settings, test_certificates: TestCertificates
) -> Iterator[TlsRecordingHandler]:
    """aiosmtpd speaking TLS from the first byte (SMTPS, as on port 465) on a free port, and
    Django's SMTP backend pointed at it with EMAIL_USE_SSL. The client trusts only what
    OpenSSL's default locations hold: `trust_the_test_ca` adds this server's CA."""
    from aiosmtpd.controller import Controller

    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(test_certificates.cert, test_certificates.key)
    handler = TlsRecordingHandler()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), ssl_context=server_context
    )
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_SSL, settings.EMAIL_USE_TLS = True, False
    handler.port = controller.port
    yield handler
    delivery.close_connection()
    controller.stop()


@pytest.fixture
def trust_the_test_ca(monkeypatch: pytest.MonkeyPatch, test_certificates: TestCertificates) -> None:
    """Django's SMTP backend verifies the server against `ssl.create_default_context()`,
    which reads OpenSSL's default CA file, SSL_CERT_FILE when set, at each call: the way an
    operator trusts a private CA too, with no code and no setting of Django's."""
    monkeypatch.setenv("SSL_CERT_FILE", str(test_certificates.ca))


# --- SendGrid: a stand-in for its v3 API on 127.0.0.1 -------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class SendGridStandIn:
    """What SendGrid's API was asked; it answers 202 (accepted) unless told otherwise."""

    url: str = ""
    key: str = "SG.test-key"
    requests: list[Received] = field(default_factory=list)
    # the statuses of the next answers, in order (then 202 again)
    answer_next: list[int] = field(default_factory=list)


class _SendGridHandler(BaseHTTPRequestHandler):
    server: _SendGridServer

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        api = self.server.api
        api.requests.append(
            Received(
                method="POST", path=self.path, headers=dict(self.headers), body=json.loads(raw)
            )
        )
        status = api.answer_next.pop(0) if api.answer_next else 202
        # SendGrid answers 202 with an empty body, and errors as {"errors": [{message,…}]}
        body = (
            b""
            if status == 202
            else json.dumps(
                {"errors": [{"message": f"stand-in refusal {status}", "field": None}]}
            ).encode()
        )
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no request lines on stderr


class _SendGridServer(ThreadingHTTPServer):
    daemon_threads = True
    api: SendGridStandIn


@pytest.fixture
def sendgrid_api(settings: Settings) -> Iterator[SendGridStandIn]:
    """A local HTTP server standing in for SendGrid's v3 API, and django-anymail's SendGrid
    backend pointed at it (ANYMAIL["SENDGRID_API_URL"])."""
    server = _SendGridServer(("127.0.0.1", 0), _SendGridHandler)
    server.api = SendGridStandIn(url=f"http://127.0.0.1:{server.server_address[1]}/v3/")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "SENDGRID_API_KEY": server.api.key,
        "SENDGRID_API_URL": server.api.url,
    }
    yield server.api
    delivery.close_connection()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)

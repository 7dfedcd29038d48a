from __future__ import annotations

import pytest

from files.names import sanitize_name
from files.sniff import sniff_content_type


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("/etc/passwd", "passwd"),
        ("C:\\Users\\me\\a.txt", "a.txt"),
        ("tab\there.txt", "tabhere.txt"),
        ("rtl\u202egnp.exe", "rtlgnp.exe"),
        ("  spaced  ", "spaced"),
        ("", "unnamed"),
        (None, "unnamed"),
        ("\x00\x01", "unnamed"),
        ("e\u0301.txt", "é.txt"),
        ("y" * 400, "y" * 255),
        ("z" * 300 + ".verylongextension!!", ("z" * 300 + ".verylongextension!!")[:255]),
    ],
)
def test_sanitize_name(raw, clean):
    assert sanitize_name(raw) == clean


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"", "application/x-empty"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"plain words\n", "text/plain"),
        ("caf\u00e9".encode(), "text/plain"),
        ("é".encode() * 10 + "é".encode()[:1], "text/plain"),  # cut mid-character
        (b"\xff\xfe\x00\x01binary", "application/octet-stream"),
        (b"\xc3\x28 invalid utf-8 then more text", "application/octet-stream"),
    ],
)
def test_sniff_content_type(head, kind):
    assert sniff_content_type(head) == kind

"""Downloads through the API: bytes whatever Accept says (files.downloads writes them)."""

from __future__ import annotations

from rest_framework.negotiation import BaseContentNegotiation

from files.downloads import file_download_response

__all__ = ["AnyAcceptNegotiation", "file_download_response"]


class AnyAcceptNegotiation(BaseContentNegotiation):
    """Downloads answer bytes whatever Accept says; errors are still JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

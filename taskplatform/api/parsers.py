"""The API's JSON parser: hostile JSON is a 400 `malformed_request`, never a 500.

DRF's JSONParser lets through what later code can't handle:

- `[[[[…` nested a few thousand deep raises RecursionError inside the json module (a 500),
  and a few hundred deep parses but then breaks code that walks the value recursively
  (serializers, json.dumps of a JSONField, the database driver);
- `1e999` parses as float('inf'), which PostgreSQL's jsonb refuses (a 500 on save);
- `"\\ud800"` (a lone surrogate) parses into a str that can't be encoded as UTF-8, so the
  database driver fails on it;
- the body is read whole, whatever its size (Django's DATA_UPLOAD_MAX_MEMORY_SIZE guards
  only `request.body` and forms, not the stream DRF reads).
"""

from __future__ import annotations

import json
import math

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deeper than any body this API accepts (job params are the deepest, and small), shallow
# enough that every recursive walk after parsing stays far from Python's recursion limit.
MAX_DEPTH = 64


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def check_json_value(value, *, max_depth: int = MAX_DEPTH, allow_nul: bool = True) -> None:
    """Raise ValueError when `value` nests deeper than `max_depth` or holds a lone surrogate
    (or, unless `allow_nul`, a NUL character: PostgreSQL's jsonb can't store one).

    Iterative, so it is safe on any input.
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, allow_nul)
        elif isinstance(item, (dict, list)):
            if depth > max_depth:
                raise ValueError(f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key, allow_nul)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _check_text(text: str, allow_nul: bool) -> None:
    if not allow_nul and "\x00" in text:
        raise ValueError("null characters are not allowed")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds an unpaired surrogate (\\ud800-\\udfff)") from None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestDataTooBig(f"The JSON body is larger than {limit} bytes.")
        try:
            data = json.loads(
                raw.decode(encoding),
                parse_constant=_reject_constant,
                parse_float=_finite_float,
            )
            check_json_value(data)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels") from None
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ParseError(f"JSON parse error - {exc}") from None
        return data

"""Keyset cursors for walking a list: `?cursor=` pages that never get slower or skip rows.

An OFFSET page walks past every row before it (page 2,000 of a big list reads 100,000
rows), and rows added or removed meanwhile shift the pages. A cursor names the last row
served by its sort key instead, so the next page is "the rows after this key": one index
range, however deep, and stable while rows come and go.

The cursor is opaque to clients: the list's ordering and the last row's values, signed
(a tampered or foreign cursor is a 400, never a query on values nobody checked). The
ordering is the list's own (`?ordering=` or the default), made total with the primary key
as the last term, and nulls last in either direction so every database sorts alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Field, Model, OrderBy, Q, QuerySet
from rest_framework.exceptions import ValidationError

_SALT = "taskplatform.api.cursors"
INVALID = "This cursor is invalid or belongs to another ordering: start again."


def _invalid() -> ValidationError:
    return ValidationError({"cursor": [INVALID]})


@dataclass(frozen=True)
class Term:
    field: Field
    descending: bool

    @property
    def spec(self) -> str:
        return ("-" if self.descending else "") + self.field.name

    def order_by(self) -> OrderBy:
        # NULLS LAST only where nulls can be: on a NOT NULL column it would keep PostgreSQL
        # from reading a plain index backwards for a descending order
        nulls_last = True if self.field.null else None
        expression = F(self.field.attname)
        if self.descending:
            return expression.desc(nulls_last=nulls_last)
        return expression.asc(nulls_last=nulls_last)


def _terms(queryset: QuerySet) -> list[Term] | None:
    """The queryset's ordering as terms on its model's own columns, the primary key last;
    None when it orders by something else (a lookup through a relation, an expression)."""
    model: type[Model] = queryset.model
    ordering: list[Any] = list(queryset.query.order_by) or (
        list(model._meta.ordering or []) if queryset.query.default_ordering else []
    )
    terms: list[Term] = []
    for item in ordering:
        if isinstance(item, OrderBy) and isinstance(item.expression, F):
            name, descending = item.expression.name, item.descending
        elif isinstance(item, str) and item != "?":
            name, descending = item.lstrip("-"), item.startswith("-")
        else:
            return None
        try:
            field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if not isinstance(field, Field) or not field.concrete or "__" in name:
            return None
        terms.append(Term(field, descending))
        if field.primary_key:
            return terms  # total already; later terms never decide
    pk = model._meta.pk
    assert pk is not None
    return [*terms, Term(pk, terms[0].descending if terms else False)]


def _after(terms: list[Term], values: list[Any]) -> Q:
    """Rows sorting after the row with `values` (nulls last): (t1 > v1) or (t1 = v1 and
    t2 > v2) or …"""
    condition = Q(pk__in=[])
    equal = Q()
    for term, value in zip(terms, values, strict=True):
        name = term.field.attname
        if value is None:  # nothing sorts after a null but other nulls
            later = Q(pk__in=[])
            same = Q(**{f"{name}__isnull": True})
        else:
            later = Q(**{f"{name}__{'lt' if term.descending else 'gt'}": value})
            if term.field.null:
                later |= Q(**{f"{name}__isnull": True})
            same = Q(**{name: value})
        condition |= equal & later
        equal &= same
    return condition


@dataclass
class CursorPage:
    rows: list[Any]
    next_cursor: str | None


def cursor_page(queryset: QuerySet, cursor: str, size: int) -> CursorPage:
    """The `size` rows after `cursor` ("" for the first page) and the cursor after them."""
    terms = _terms(queryset) if isinstance(queryset, QuerySet) else None
    if terms is None:
        raise ValidationError({"cursor": ["This list can't be walked with a cursor."]})
    specs = [term.spec for term in terms]
    queryset = queryset.order_by(*(term.order_by() for term in terms))
    if cursor:
        queryset = queryset.filter(_after(terms, _decode(cursor, terms, specs)))
    rows = list(queryset[: size + 1])
    if len(rows) <= size:
        return CursorPage(rows, None)
    rows = rows[:size]
    last = [_json(_value(rows[-1], term.field)) for term in terms]
    return CursorPage(rows, signing.dumps({"o": specs, "v": last}, salt=_SALT, compress=True))


def _value(row: Any, field: Field) -> Any:
    """A column of a row: a model instance, or a dict from .values()."""
    return row[field.attname] if isinstance(row, dict) else getattr(row, field.attname)


def _json(value: Any) -> Any:
    """The value as JSON holds it; the field's to_python reads it back."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _decode(cursor: str, terms: list[Term], specs: list[str]) -> list[Any]:
    try:
        payload = signing.loads(cursor, salt=_SALT)
        if payload["o"] != specs or len(payload["v"]) != len(terms):
            raise _invalid()
        return [
            None if value is None else term.field.to_python(value)
            for term, value in zip(terms, payload["v"], strict=True)
        ]
    except (signing.BadSignature, KeyError, TypeError, ValueError, DjangoValidationError):
        raise _invalid() from None

"""Every list's pages: `?page=1&page_size=20` (at most 100 a page), or `?cursor=`.

The envelope is `{count, count_exact, next, previous, results}`. Counting every match of a
big list costs more than the page itself (50,000 matching tasks: 8.7 ms, the page 0.2 ms),
so `count` is exact up to COUNT_CAP matches; past it, `count` is COUNT_CAP and
`count_exact` false ("more than this"). Page numbers keep working past the cap: whether a
next page exists is learned by reading one row more than the page, and on the last page the
count is exact again without a COUNT (as it is for every list that fits on one page).

`?cursor=` (empty for the first page, then each answer's `next`) walks a list by keyset
(taskplatform/api/cursors.py) for clients that read large lists to the end; `previous` is
null there (forward only).
"""

from __future__ import annotations

import math
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from .cursors import cursor_page

COUNT_CAP = 10_000
# the largest OFFSET the databases take (a BIGINT): a page past it has no rows
_MAX_OFFSET = 2**63 - 1


class CappedPaginator(Paginator):
    """Django's Paginator with the count capped, and pages that read one row ahead."""

    count_exact = True

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        # the primary keys alone, unordered: the matches' index suffices to count them
        matches = self.object_list.order_by().values("pk")[: COUNT_CAP + 1].count()
        if matches > COUNT_CAP:
            self.count_exact = False
            return COUNT_CAP
        return matches

    def exact_count(self) -> int:
        """The full count, for `?page=last` (rare: it is what the cap saves)."""
        if isinstance(self.object_list, QuerySet):
            self.__dict__["count"] = self.object_list.count()
        return self.count

    def page(self, number: Any) -> Page:
        number = self._number(number)
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page + 1 > _MAX_OFFSET:
            raise EmptyPage(self.error_messages["no_results"])
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        has_next = len(rows) > self.per_page
        del rows[self.per_page :]
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        if not has_next and "count" not in self.__dict__:  # the last page: all is known
            self.__dict__["count"] = bottom + len(rows)
        return ReadAheadPage(rows, number, self, has_next=has_next)

    def _number(self, number: Any) -> int:
        """Django's validate_number, but for the upper bound (the rows decide that)."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class ReadAheadPage(Page):
    """A page that knows whether another follows from the row read past its end."""

    def __init__(self, object_list, number, paginator, *, has_next: bool):
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self) -> bool:
        return self._has_next

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1  # Django's checks it against a page count the cap may cut


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=1&page_size=20`, at most 100 a page; or `?cursor=`."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class = CappedPaginator
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.cursor_next: str | None = None
        self.by_cursor = self.cursor_query_param in request.query_params
        if not self.by_cursor:
            return super().paginate_queryset(queryset, request, view)
        if self.page_query_param in request.query_params:
            raise ValidationError({"cursor": ["Give page or cursor, not both."]})
        self.request = request
        size = self.get_page_size(request) or self.page_size
        page = cursor_page(queryset, request.query_params[self.cursor_query_param], size)
        self.cursor_next = page.next_cursor
        self.paginator = CappedPaginator(queryset, size)
        return page.rows

    def get_page_number(self, request, paginator):
        page_number = request.query_params.get(self.page_query_param) or 1
        if page_number in self.last_page_strings:
            page_number = math.ceil(paginator.exact_count() / paginator.per_page) or 1
        return page_number

    def get_paginated_response(self, data):
        paginator = self.paginator if self.by_cursor else self.page.paginator  # type: ignore[union-attr]
        assert isinstance(paginator, CappedPaginator)
        return Response(
            {
                "count": paginator.count,
                "count_exact": paginator.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_next_link(self):
        if not self.by_cursor:
            return super().get_next_link()
        if self.cursor_next is None:
            return None
        assert self.request is not None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.cursor_next)

    def get_previous_link(self):
        return None if self.by_cursor else super().get_previous_link()

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "count_exact", "results"]
        properties = response["properties"]
        properties["count"]["description"] = (
            f"How many match, exactly up to {COUNT_CAP:,}; past that {COUNT_CAP:,} "
            "(see count_exact)."
        )
        response["properties"] = {
            "count": properties["count"],
            "count_exact": {
                "type": "boolean",
                "description": f"False when more than {COUNT_CAP:,} match and `count` is the cap.",
            },
            **{k: v for k, v in properties.items() if k != "count"},
        }
        return response

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Walk the list by cursor instead of page numbers: empty for the "
                "first page, then follow `next`. Stable while rows are added or removed.",
                "schema": {"type": "string"},
            },
        ]

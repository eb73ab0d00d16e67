"""Pagination with ``page`` and ``pageSize`` (Dutch API Design Rules) and RFC 8288 ``Link``
headers (first, prev, next, last), plus ``X-Total-Count``.

A route takes ``page: PageDep``, queries ``LIMIT page.limit OFFSET page.offset`` and the total,
and returns ``paginated(response, request, page, total)``'s body. Pages past the end are empty
(200), not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """The requested page (1-based) and its size."""

    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def limit(self) -> int:
        return self.size

    def last(self, total: int) -> int:
        return max(1, -(-total // self.size))


def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="page number, from 1")] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=MAX_PAGE_SIZE,
                                    description="items per page")] = DEFAULT_PAGE_SIZE,
) -> Page:
    return Page(page, page_size)


PageDep = Annotated[Page, Depends(page_params)]


class PageOf(BaseModel, Generic[T]):
    """One page of a list: the items, the total count and where we are."""

    data: list[T]
    count: int
    page: int
    pageSize: int


def link_header(request: Request, page: Page, total: int) -> str:
    """RFC 8288 links to the first, previous, next and last pages of the same query."""
    last = page.last(total)

    def url(number: int) -> str:
        return str(request.url.include_query_params(page=number, pageSize=page.size))

    links = [(url(1), "first")]
    if page.number > 1:
        links.append((url(min(page.number - 1, last)), "prev"))
    if page.number < last:
        links.append((url(page.number + 1), "next"))
    links.append((url(last), "last"))
    return ", ".join(f'<{u}>; rel="{rel}"' for u, rel in links)


def paginated(response: Response, request: Request, page: Page, items: list[T],
              total: int) -> PageOf[T]:
    """Set the Link and X-Total-Count headers and wrap the items."""
    response.headers["Link"] = link_header(request, page, total)
    response.headers["X-Total-Count"] = str(total)
    return PageOf(data=items, count=total, page=page.number, pageSize=page.size)

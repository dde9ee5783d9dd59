from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Response

from api.domain.pagination import MAX_CURSOR_CHARS


def page_limit(largest: int = 200) -> Any:
    """A page size. Its range is published but checked by the service, so that REST and
    GraphQL refuse a page too large alike (the cap is the operator's PAGE_SIZE_MAX)."""
    return Query(
        description=f"Page size, 1 to {largest}",
        json_schema_extra={"minimum": 1, "maximum": largest},
    )


Limit = Annotated[int, page_limit()]


def cursor_query(description: str) -> Any:
    """A cursor parameter. Its length is published but checked by the cursor decoder, so every
    door refuses a bad cursor alike: 400 `invalid_cursor`."""
    return Query(description=description, json_schema_extra={"maxLength": MAX_CURSOR_CHARS})


After = Annotated[str | None, cursor_query("`next_cursor` of the previous page")]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request (e.g. a cursor this service did not issue)", **PROBLEM},
    401: {"description": "No token, or an expired, revoked or otherwise invalid one", **PROBLEM},
    403: {"description": "Your role may not do this", **PROBLEM},
    404: {"description": "No such record in your area", **PROBLEM},
    422: {"description": "Invalid input; `errors` lists each field at fault", **PROBLEM},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"description": "Conflicts with existing data", **PROBLEM},
    412: {
        "description": "Based on an old version; `current_version` says which is current",
        **PROBLEM,
    },
}


def etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


def download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

from typing import Annotated, Any

from fastapi import Query, Response

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (at most 200)")]
After = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page")
]

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

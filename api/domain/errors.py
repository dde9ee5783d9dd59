"""Transport-neutral errors. Each carries a stable machine code that clients can rely on, and
the status of the RFC 9457 problem it becomes (HTTP's vocabulary for what went wrong)."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One field at fault. `path` is the field's name in the input shape; `location` says where
    the input came from (the request body, a header, a form, a query or GraphQL argument), so
    each door can name it the way its clients wrote it."""

    path: str
    message: str
    code: str = "invalid"
    location: str = "body"


class DomainError(Exception):
    code = "domain_error"
    status = 400
    title = "The request could not be processed"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = extra or {}


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = "Not found"


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401
    title = "Authentication required"


class InvalidGrant(DomainError):
    code = "invalid_grant"
    status = 400
    title = "The credentials or grant are not valid"


class InvalidClient(DomainError):
    code = "invalid_client"
    status = 401
    title = "Client authentication failed"


class Locked(DomainError):
    code = "account_locked"
    status = 429
    title = "Too many failed sign-ins; try again later"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class PersonalIdCheckLimit(Locked):
    code = "personal_id_check_limit"
    title = "Too many personal ID checks this hour; try again later"


class PurposeRequired(DomainError):
    code = "purpose_required"
    status = 400
    title = "Partners must state the purpose of reading personal data"


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    title = "Forbidden"


class VersionConflict(DomainError):
    code = "version_conflict"
    status = 412
    title = "The record was changed by someone else"

    def __init__(self, detail: str, *, current_version: int) -> None:
        super().__init__(detail, extra={"current_version": current_version})
        self.current_version = current_version


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "Conflict with the current state"


class CannotDisableSelf(Conflict):
    code = "cannot_disable_self"
    title = "An account cannot disable itself"


class LastAdmin(Conflict):
    code = "last_admin"
    title = "The service would be left without an active admin"


class BatchTooLarge(DomainError):
    code = "batch_too_large"
    status = 413
    title = "The batch holds more items than one request may carry"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "This step is not allowed from the record's current state"


class DuplicatePersonalId(Conflict):
    code = "duplicate_personal_id"
    title = "Another active person has this personal ID"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    title = "Idempotency-Key already used for a different request"


class IdempotencyInProgress(DomainError):
    code = "idempotency_in_progress"
    status = 409
    title = "A request with this Idempotency-Key is still being processed"


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    status = 400
    title = "The cursor is not valid"


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 422
    title = "Validation failed"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems) or self.title)
        self.problems = problems

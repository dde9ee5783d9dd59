"""Transport-neutral errors. Each carries a stable machine code that clients can rely on."""

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
    title = "The request could not be processed"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = extra or {}


class NotFound(DomainError):
    code = "not_found"
    title = "Not found"


class Unauthorized(DomainError):
    code = "unauthorized"
    title = "Authentication required"


class InvalidGrant(DomainError):
    code = "invalid_grant"
    title = "The credentials or grant are not valid"


class InvalidClient(DomainError):
    code = "invalid_client"
    title = "Client authentication failed"


class Locked(DomainError):
    code = "account_locked"
    title = "Too many failed sign-ins; try again later"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class PersonalIdCheckLimit(Locked):
    code = "personal_id_check_limit"
    title = "Too many personal ID checks this hour; try again later"


class PurposeRequired(DomainError):
    code = "purpose_required"
    title = "Partners must state the purpose of reading personal data"


class Forbidden(DomainError):
    code = "forbidden"
    title = "Forbidden"


class VersionConflict(DomainError):
    code = "version_conflict"
    title = "The record was changed by someone else"

    def __init__(self, detail: str, *, current_version: int) -> None:
        super().__init__(detail, extra={"current_version": current_version})
        self.current_version = current_version


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict with the current state"


class CannotDisableSelf(Conflict):
    code = "cannot_disable_self"
    title = "An account cannot disable itself"


class LastAdmin(Conflict):
    code = "last_admin"
    title = "The service would be left without an active admin"


class BatchTooLarge(DomainError):
    code = "batch_too_large"
    title = "The batch holds more items than one request may carry"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "This step is not allowed from the record's current state"


class DuplicatePersonalId(Conflict):
    code = "duplicate_personal_id"
    title = "Another active person has this personal ID"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    title = "Idempotency-Key already used for a different request"


class IdempotencyInProgress(DomainError):
    code = "idempotency_in_progress"
    title = "A request with this Idempotency-Key is still being processed"


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    title = "The cursor is not valid"


class ValidationFailed(DomainError):
    code = "validation_failed"
    title = "Validation failed"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems) or self.title)
        self.problems = problems

"""Shared table plumbing: portable column types, naming convention, record bookkeeping."""

import math
import re
import unicodedata
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite stores naive text and drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_field(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class RecordMeta(SQLModel):
    """Server-assigned bookkeeping carried by every mutable record."""

    version: int = Field(default=1, ge=1)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)
    deleted_at: datetime | None = utc_field(default=None, nullable=True)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


BOOKKEEPING = frozenset({"version", "created_at", "updated_at", "deleted_at"})


def snapshot(record: SQLModel, exclude: frozenset[str] = BOOKKEEPING) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude=set(exclude))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def enum_type(enum_cls: type[StrEnum]) -> SAEnum:
    """Enums are stored as their string values in a plain VARCHAR, portable and readable."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
    )


# No shape nests deeper than a few levels (a batch, an item, its data, answers, an indicator):
# deeper input is refused before anything recurses through it.
MAX_NESTING = 32
# NUL is refused by PostgreSQL text; a lone surrogate (JSON may escape one, `"\\ud800"`) cannot be
# encoded as UTF-8 for any database or for the answer.
_UNENCODABLE = re.compile("[\x00\ud800-\udfff]")


class Unfit(NamedTuple):
    """Where a value no column or JSON answer can hold sits in an input, and why."""

    path: tuple[int | str, ...]
    code: str
    message: str


def _printable(text: str) -> str:
    return _UNENCODABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _text_unfit(text: str) -> tuple[str, str] | None:
    found = _UNENCODABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "nul_character", "NUL characters are not allowed"
    # The code and message pydantic gives a str field holding one.
    return (
        "string_unicode",
        "Input should be a valid string, unable to parse raw data as a unicode string",
    )


def cleaned(value: Any) -> Any:
    """`value` with its text in Unicode NFC, however deep: some keyboards send decomposed
    Vietnamese, and search and duplicate checks must not depend on the keyboard. Raises
    `UnfitInput` for what cannot be stored or answered: NUL or lone surrogates in text or
    keys, NaN and infinite numbers (JSON has none, PostgreSQL's json refuses them), and
    nesting deeper than MAX_NESTING."""
    return _cleaned(value, (), 1)


def _cleaned(value: Any, path: tuple[int | str, ...], level: int) -> Any:
    if isinstance(value, str):
        unfit = _text_unfit(value)
        if unfit is not None:
            raise UnfitInput(Unfit(path, *unfit))
        return unicodedata.normalize("NFC", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise UnfitInput(Unfit(path, "non_finite_number", "Input should be a finite number"))
    if not isinstance(value, dict | list):
        return value
    if level > MAX_NESTING:
        raise UnfitInput(Unfit(path, "too_deep", f"nested more than {MAX_NESTING} levels deep"))
    if isinstance(value, list):
        return [_cleaned(v, (*path, i), level + 1) for i, v in enumerate(value)]
    result = {}
    for k, v in value.items():
        key = k
        if isinstance(k, str):
            unfit = _text_unfit(k)
            if unfit is not None:
                raise UnfitInput(Unfit((*path, _printable(k)), *unfit))
            key = unicodedata.normalize("NFC", k)
        result[key] = _cleaned(v, (*path, key), level + 1)
    return result


class UnfitInput(ValueError):
    def __init__(self, unfit: Unfit) -> None:
        super().__init__(unfit.message)
        self.unfit = unfit


def not_null(value: object) -> object:
    """For a field an update may leave out but not clear (its column is NOT NULL)."""
    if value is None:
        raise ValueError("may be changed but not cleared")
    return value


class Input(SQLModel):
    """A shape clients send: a field it does not have is refused by name, never ignored,
    and its text is composed (NFC) before it is checked; what no column can hold is refused
    at its own path (see `cleaned`)."""

    model_config = SQLModelConfig(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _cleaned(cls, data: Any) -> Any:
        try:
            return cleaned(data)
        except UnfitInput as exc:
            # Raised as a ValidationError so that pydantic keeps the path inside the input.
            error = InitErrorDetails(
                type=PydanticCustomError(exc.unfit.code, exc.unfit.message),
                loc=exc.unfit.path,
                input=None,
            )
            raise ValidationError.from_exception_data(cls.__name__, [error]) from None

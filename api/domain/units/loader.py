"""Loads the administrative-unit reference file. Loading the same file twice changes nothing."""

import json
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlmodel import col

from api.domain.changes.models import Operation
from api.domain.kernel.entities import EntityType
from api.domain.text import folded_key, lower_key
from api.domain.units.models import (
    LEVEL_OF_TYPE,
    AdminUnit,
    AdminUnitName,
    AdminUnitParent,
    AdminUnitSuccession,
    SuccessionKind,
    UnitBase,
    UnitLevel,
    UnitNameBase,
    is_urban,
)
from api.domain.uow import UnitOfWork

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "reference_data" / "admin_units.json"


class ParentPeriod(BaseModel):
    code: str
    valid_from: date
    valid_to: date | None = None


class UnitRecord(UnitBase):
    parents: list[ParentPeriod] = Field(default_factory=list)
    names: list[UnitNameBase] = Field(
        default_factory=list, description="Name and type per period; none: the same all along"
    )

    def name_periods(self) -> list[UnitNameBase]:
        if self.names:
            return sorted(self.names, key=lambda n: n.valid_from)
        return [
            UnitNameBase(
                name=self.name,
                unit_type=self.unit_type,
                valid_from=self.valid_from,
                valid_to=self.valid_to,
                confirmed=self.confirmed,
            )
        ]


class SuccessionRecord(BaseModel):
    predecessor: str
    successor: str
    effective: date
    kind: SuccessionKind


class UnitFile(BaseModel):
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    units: list[UnitRecord]
    successions: list[SuccessionRecord] = Field(default_factory=list)


class LoadReport(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def read_file(path: Path = DEFAULT_FILE) -> UnitFile:
    return UnitFile.model_validate(json.loads(path.read_text(encoding="utf-8")))


def _check(data: UnitFile) -> None:
    codes = {u.code for u in data.units}
    if len(codes) != len(data.units):
        raise ValueError("duplicate unit codes in the reference file")
    for u in data.units:
        if LEVEL_OF_TYPE[u.unit_type] != u.level:
            raise ValueError(f"{u.code}: type {u.unit_type} is not a {u.level}")
        for p in u.parents:
            if p.code not in codes:
                raise ValueError(f"{u.code}: unknown parent {p.code}")
        _check_names(u)
    for s in data.successions:
        if s.predecessor not in codes or s.successor not in codes:
            raise ValueError(f"succession {s.predecessor}->{s.successor} names an unknown unit")


def _check_names(u: UnitRecord) -> None:
    """The periods cover the unit's life without gap or overlap and end with its current name
    and type, which `AdminUnit` keeps for readers that do not ask for a day."""
    periods = u.name_periods()
    if periods[0].valid_from != u.valid_from or periods[-1].valid_to != u.valid_to:
        raise ValueError(f"{u.code}: names must run from valid_from to valid_to")
    for before, after in pairwise(periods):
        if before.valid_to is None or before.valid_to + timedelta(days=1) != after.valid_from:
            raise ValueError(f"{u.code}: names leave a gap or overlap at {after.valid_from}")
    if (periods[-1].name, periods[-1].unit_type) != (u.name, u.unit_type):
        raise ValueError(f"{u.code}: the last name must be the unit's name and unit_type")
    for n in periods:
        if LEVEL_OF_TYPE[n.unit_type] != u.level:
            raise ValueError(f"{u.code}: type {n.unit_type} is not a {u.level}")


def _latest_parent(u: UnitRecord) -> str | None:
    return max(u.parents, key=lambda p: p.valid_from).code if u.parents else None


def _rows(data: UnitFile) -> list[AdminUnit]:
    by_code = {u.code: u for u in data.units}
    paths: dict[str, str] = {}

    def path_of(code: str) -> str:
        if code not in paths:
            parent = _latest_parent(by_code[code])
            paths[code] = code if parent is None else f"{path_of(parent)}/{code}"
        return paths[code]

    rows = []
    for u in data.units:
        rows.append(
            AdminUnit.model_validate(
                u.model_dump(exclude={"parents", "names"}),
                update={
                    "parent_code": _latest_parent(u),
                    "path": path_of(u.code),
                    "urban": is_urban(u.level, u.unit_type),
                    "name_lower": lower_key(u.name),
                    "name_folded": folded_key(u.name),
                },
            )
        )
    return rows


_UNIT_FIELDS = (
    "name",
    "level",
    "unit_type",
    "valid_from",
    "valid_to",
    "confirmed",
    "demo",
    "note",
    "parent_code",
    "path",
    "urban",
    "name_lower",
    "name_folded",
)


async def load_units(uow: UnitOfWork, data: UnitFile) -> LoadReport:
    _check(data)
    session = uow.session
    report = LoadReport()
    existing = {u.code: u for u in (await session.scalars(select(AdminUnit))).all()}
    rows = _rows(data)
    names_now = await _names_in_database(uow)
    names_wanted = {u.code: [_plain_name(n) for n in u.name_periods()] for u in data.units}
    # Parents first so foreign keys hold while inserting.
    order = {lvl: i for i, lvl in enumerate(UnitLevel)}
    for row in sorted(rows, key=lambda r: order[r.level]):
        current = existing.get(row.code)
        if current is None:
            session.add(row)
            await session.flush()
            uow.record(
                EntityType.ADMIN_UNIT,
                row.code,
                Operation.CREATE,
                1,
                row.path,
                {
                    **{f: [None, _plain(getattr(row, f))] for f in _UNIT_FIELDS},
                    "names": [None, names_wanted[row.code]],
                },
            )
            report.created += 1
            continue
        diff = {
            f: [_plain(getattr(current, f)), _plain(getattr(row, f))]
            for f in _UNIT_FIELDS
            if getattr(current, f) != getattr(row, f)
        }
        if names_now.get(row.code, []) != names_wanted[row.code]:
            diff["names"] = [names_now.get(row.code, []), names_wanted[row.code]]
        if diff:
            for f in _UNIT_FIELDS:
                if f in diff:
                    setattr(current, f, getattr(row, f))
            uow.bump(EntityType.ADMIN_UNIT, current, row.code, row.path, diff=diff)
            report.updated += 1
        else:
            report.unchanged += 1
    await session.flush()
    await _sync_names(uow, data, names_now, names_wanted)
    await _sync_parents(uow, data)
    await _sync_successions(uow, data)
    return report


async def _names_in_database(uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    rows = await uow.session.scalars(
        select(AdminUnitName).order_by(col(AdminUnitName.code), col(AdminUnitName.valid_from))
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for n in rows.all():
        out.setdefault(n.code, []).append(_plain_name(n))
    return out


async def _sync_names(
    uow: UnitOfWork,
    data: UnitFile,
    have: dict[str, list[dict[str, Any]]],
    want: dict[str, list[dict[str, Any]]],
) -> None:
    """A unit whose periods changed gets its periods rewritten whole (they are few)."""
    session = uow.session
    changed = [u for u in data.units if have.get(u.code, []) != want[u.code]]
    if not changed:
        return
    await session.execute(
        delete(AdminUnitName).where(col(AdminUnitName.code).in_([u.code for u in changed]))
    )
    for u in changed:
        for n in u.name_periods():
            session.add(
                AdminUnitName.model_validate(
                    n.model_dump(),
                    update={
                        "code": u.code,
                        "urban": is_urban(u.level, n.unit_type),
                        "name_lower": lower_key(n.name),
                        "name_folded": folded_key(n.name),
                    },
                )
            )
    await session.flush()


async def _sync_parents(uow: UnitOfWork, data: UnitFile) -> None:
    session = uow.session
    have = {
        (p.child_code, p.valid_from): p
        for p in (await session.scalars(select(AdminUnitParent))).all()
    }
    want = {(u.code, p.valid_from): (u, p) for u in data.units for p in u.parents}
    for key, (_u, p) in want.items():
        row = have.get(key)
        if row is None:
            session.add(
                AdminUnitParent(
                    child_code=key[0],
                    valid_from=p.valid_from,
                    parent_code=p.code,
                    valid_to=p.valid_to,
                )
            )
        elif (row.parent_code, row.valid_to) != (p.code, p.valid_to):
            row.parent_code, row.valid_to = p.code, p.valid_to
    for key, row in have.items():
        if key not in want:
            await session.delete(row)
    await session.flush()


async def _sync_successions(uow: UnitOfWork, data: UnitFile) -> None:
    session = uow.session
    have = {
        (s.predecessor_code, s.successor_code): s
        for s in (await session.scalars(select(AdminUnitSuccession))).all()
    }
    want = {(s.predecessor, s.successor): s for s in data.successions}
    for key, s in want.items():
        row = have.get(key)
        if row is None:
            session.add(
                AdminUnitSuccession(
                    predecessor_code=s.predecessor,
                    successor_code=s.successor,
                    effective=s.effective,
                    kind=s.kind,
                )
            )
        elif (row.effective, row.kind) != (s.effective, s.kind):
            row.effective, row.kind = s.effective, s.kind
    for key, row in have.items():
        if key not in want:
            await session.delete(row)
    await session.flush()


def _plain_name(n: UnitNameBase) -> dict[str, Any]:
    return {f: _plain(getattr(n, f)) for f in UnitNameBase.model_fields}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value

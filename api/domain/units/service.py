from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.errors import FieldProblem, NotFound, ValidationFailed
from api.domain.kernel import paging
from api.domain.pagination import Page
from api.domain.text import folded_key, has_diacritics, like_pattern, lower_key
from api.domain.units.models import (
    AdminUnit,
    AdminUnitName,
    AdminUnitParent,
    AdminUnitSuccession,
    UnitDetail,
    UnitLevel,
    UnitLineage,
    UnitLink,
    UnitNamePeriod,
    UnitParentPeriod,
    UnitPublic,
)
from api.domain.units.periods import publish, to_public
from api.domain.uow import UnitOfWork

__all__ = ["UnitService", "to_public"]

BY_CODE = paging.by_key("unit", lambda: col(AdminUnit.code), lambda u: u.code, paging.text_key)


def _valid_on(
    model: type[AdminUnit] | type[AdminUnitParent] | type[AdminUnitName], day: date
) -> ColumnElement[bool]:
    return and_(
        col(model.valid_from) <= day,
        or_(col(model.valid_to).is_(None), col(model.valid_to) >= day),
    )


class UnitService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal

    async def get(self, code: str) -> AdminUnit:
        access.require(self.principal, Permission.UNITS_READ)
        unit = await self.session.get(AdminUnit, code)
        if unit is None:
            raise NotFound(f"no administrative unit with code {code!r}")
        return unit

    async def public(self, code: str, as_of: date | None = None) -> UnitPublic:
        """The unit with its name and type on `as_of` (default: the current ones)."""
        [unit] = await publish(self.session, [await self.get(code)], as_of)
        return unit

    async def detail(self, code: str, as_of: date | None = None) -> UnitDetail:
        unit = await self.public(code, as_of)
        lineage = await self.lineage(code)
        return UnitDetail(**unit.model_dump(), **lineage.model_dump())

    async def lineage(self, code: str) -> UnitLineage:
        parents = (
            await self.session.scalars(
                select(AdminUnitParent)
                .where(col(AdminUnitParent.child_code) == code)
                .order_by(col(AdminUnitParent.valid_from))
            )
        ).all()
        names = (
            await self.session.scalars(
                select(AdminUnitName)
                .where(col(AdminUnitName.code) == code)
                .order_by(col(AdminUnitName.valid_from))
            )
        ).all()
        return UnitLineage(
            parents=[UnitParentPeriod.model_validate(p, from_attributes=True) for p in parents],
            names=[UnitNamePeriod.model_validate(n, from_attributes=True) for n in names],
            predecessors=await self._links(code, forward=False),
            successors=await self._links(code, forward=True),
        )

    async def _links(self, code: str, *, forward: bool) -> list[UnitLink]:
        s = AdminUnitSuccession
        mine, other = (
            (col(s.predecessor_code), col(s.successor_code))
            if forward
            else (col(s.successor_code), col(s.predecessor_code))
        )
        rows = (
            await self.session.execute(
                select(col(AdminUnit.code), col(AdminUnit.name), col(s.effective), col(s.kind))
                .join(AdminUnit, col(AdminUnit.code) == other)
                .where(mine == code)
                .order_by(col(AdminUnit.code))
            )
        ).all()
        return [UnitLink(code=r[0], name=r[1], effective=r[2], kind=r[3]) for r in rows]

    async def find(
        self,
        *,
        level: UnitLevel | None = None,
        as_of: date | None = None,
        q: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> Page[UnitPublic]:
        access.require(self.principal, Permission.UNITS_READ)
        stmt = select(AdminUnit)
        if level is not None:
            stmt = stmt.where(col(AdminUnit.level) == level)
        if as_of is not None:
            stmt = stmt.where(_valid_on(AdminUnit, as_of))
        if q:
            named = select(col(AdminUnitName.code)).where(_name_matches(q))
            if as_of is not None:
                named = named.where(_valid_on(AdminUnitName, as_of))
            stmt = stmt.where(col(AdminUnit.code).in_(named))
        rows, cursors, more = await paging.page(self.uow, stmt, BY_CODE, after, limit)
        return Page[UnitPublic].of(await publish(self.session, rows, as_of), cursors, more)

    async def children(self, code: str, as_of: date | None = None) -> list[UnitPublic]:
        await self.get(code)
        day = as_of or date.today()
        p = AdminUnitParent
        stmt = (
            select(AdminUnit)
            .join(p, col(p.child_code) == col(AdminUnit.code))
            .where(col(p.parent_code) == code, _valid_on(p, day), _valid_on(AdminUnit, day))
            .order_by(col(AdminUnit.code))
        )
        return await publish(self.session, (await self.session.scalars(stmt)).all(), as_of)

    async def subtree(self, code: str, as_of: date | None = None) -> list[UnitPublic]:
        """The unit and everything under it on `as_of` (default today), top-down."""
        root = await self.get(code)
        day = as_of or date.today()
        codes = await self.descendant_codes(code, day)
        units = (
            await self.session.scalars(select(AdminUnit).where(col(AdminUnit.code).in_(codes)))
        ).all()
        order = {lvl: i for i, lvl in enumerate(UnitLevel)}
        ranked = sorted(units, key=lambda u: (order[u.level], u.code))
        return await publish(self.session, [root, *ranked], as_of)

    async def descendant_codes(self, code: str, day: date) -> list[str]:
        p = AdminUnitParent
        tree = (
            select(col(p.child_code).label("code"))
            .where(col(p.parent_code) == code, _valid_on(p, day))
            .cte("tree", recursive=True)
        )
        tree = tree.union_all(
            select(col(p.child_code))
            .join(tree, col(p.parent_code) == tree.c.code)
            .where(_valid_on(p, day))
        )
        return list((await self.session.scalars(select(tree.c.code))).all())

    async def territory(self, code: str, day: date) -> list[str]:
        """Where the unit's villages are today: the communes (their paths) that hold the
        villages it had on the day (on its last day, if it ended before). A current unit is
        its own path; the former district 350 is the wards its communes went into."""
        unit = await self.get(code)
        if unit.valid_to is None:
            return [unit.path]
        last = min(day, unit.valid_to)
        codes = [unit.code, *await self.descendant_codes(unit.code, last)]
        villages = await self.session.scalars(
            select(col(AdminUnit.path)).where(
                col(AdminUnit.code).in_(codes), col(AdminUnit.level) == UnitLevel.VILLAGE
            )
        )
        found = sorted({path.rsplit("/", 1)[0] for path in villages.all()})
        return found or [unit.path]

    async def successors(self, code: str, as_of: date | None = None) -> list[UnitPublic]:
        """The units that hold this unit's territory on `as_of` (default today)."""
        unit = await self.get(code)
        day = as_of or date.today()
        if unit.valid_from <= day and (unit.valid_to is None or unit.valid_to >= day):
            return await publish(self.session, [unit], as_of)
        found: dict[str, AdminUnit] = {}
        frontier, seen = [code], {code}
        while frontier:
            rows = (
                await self.session.scalars(
                    select(AdminUnit)
                    .join(
                        AdminUnitSuccession,
                        col(AdminUnitSuccession.successor_code) == col(AdminUnit.code),
                    )
                    .where(col(AdminUnitSuccession.predecessor_code).in_(frontier))
                )
            ).all()
            frontier = []
            for u in rows:
                if u.code in seen:
                    continue
                seen.add(u.code)
                if u.valid_from <= day and (u.valid_to is None or u.valid_to >= day):
                    found[u.code] = u
                elif u.valid_from <= day:
                    frontier.append(u.code)
        return await publish(self.session, sorted(found.values(), key=lambda u: u.code), as_of)

    async def by_codes(self, codes: Iterable[str]) -> dict[str, AdminUnit]:
        wanted = set(codes)
        if not wanted:
            return {}
        rows = (
            await self.session.scalars(select(AdminUnit).where(col(AdminUnit.code).in_(wanted)))
        ).all()
        return {u.code: u for u in rows}

    async def current_village(self, code: str, field: str = "village_code") -> AdminUnit:
        """The village a household may be placed in today, or a validation problem on `field`."""
        unit = await self.session.get(AdminUnit, code)
        if unit is None:
            raise ValidationFailed(
                [FieldProblem(field, f"no administrative unit {code!r}", "unknown_unit")]
            )
        if unit.level != UnitLevel.VILLAGE:
            raise ValidationFailed(
                [
                    FieldProblem(
                        field, f"{code!r} is a {unit.level.value}, not a village", "not_a_village"
                    )
                ]
            )
        if unit.valid_to is not None and unit.valid_to < date.today():
            raise ValidationFailed(
                [
                    FieldProblem(
                        field, f"village {code!r} ceased to exist on {unit.valid_to}", "unit_ended"
                    )
                ]
            )
        return unit


def _name_matches(q: str) -> ColumnElement[bool]:
    """Any name the unit has had (the caller narrows it to one day)."""
    if has_diacritics(q):
        return col(AdminUnitName.name_lower).like(like_pattern(lower_key(q)), escape="\\")
    return col(AdminUnitName.name_folded).like(like_pattern(folded_key(q)), escape="\\")

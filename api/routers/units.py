from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import ServicesDep
from api.domain.pagination import Page
from api.domain.strict import Day
from api.domain.units.models import UnitDetail, UnitLevel, UnitPublic
from api.routers.common import ERRORS, After, Limit

router = APIRouter(prefix="/api/v1/units", tags=["administrative units"], responses=ERRORS)

Code = Annotated[str, Path(max_length=16, description="Official code (villages: demo code)")]
AsOf = Annotated[
    Day | None,
    Query(description="The hierarchy, names and types as they stood on this day (default today)"),
]
NamesOn = Annotated[
    Day | None, Query(description="Name and type as they were on this day (default: current)")
]


@router.get("", response_model=Page[UnitPublic])
async def list_units(
    svc: ServicesDep,
    after: After = None,
    limit: Limit = 50,
    level: Annotated[UnitLevel | None, Query()] = None,
    as_of: Annotated[
        Day | None,
        Query(description="Only units that existed on this day, named as they were then"),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=120,
            description="Name, with or without diacritics: any name the unit has had, or its "
            "name on `as_of`",
        ),
    ] = None,
) -> Page[UnitPublic]:
    """Administrative units ordered by code, including those that no longer exist."""
    return await svc.units.find(level=level, as_of=as_of, q=q, after=after, limit=limit)


@router.get("/{code}")
async def get_unit(svc: ServicesDep, code: Code, as_of: NamesOn = None) -> UnitDetail:
    """One unit with its name and type on `as_of`, its names and parents over time, and its
    predecessors and successors."""
    return await svc.units.detail(code, as_of)


@router.get("/{code}/children")
async def unit_children(svc: ServicesDep, code: Code, as_of: AsOf = None) -> list[UnitPublic]:
    """The units directly under this one on `as_of`."""
    return await svc.units.children(code, as_of)


@router.get("/{code}/subtree")
async def unit_subtree(svc: ServicesDep, code: Code, as_of: AsOf = None) -> list[UnitPublic]:
    """This unit and every unit under it on `as_of`, top-down."""
    return await svc.units.subtree(code, as_of)


@router.get("/{code}/successors")
async def unit_successors(svc: ServicesDep, code: Code, as_of: AsOf = None) -> list[UnitPublic]:
    """The units holding this unit's territory on `as_of`: itself if it still exists,
    otherwise its successors after mergers (followed through several reorganisations)."""
    return await svc.units.successors(code, as_of)

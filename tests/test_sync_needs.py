"""Needs recorded offline: a reviewer's phone pushes them like any record (exactly once,
versioned, withdrawn rather than deleted), and gets them back in its snapshot and pull."""

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from api.domain.access import Role
from api.domain.households.member_models import Relation
from api.domain.services import Services
from tests.builders import make_household, make_member, ok, token_headers
from tests.test_sync_pull import SNAPSHOT, drain, summary
from tests.test_sync_push import push

Json = dict[str, Any]


def need(nid: uuid.UUID, data: Json, op: str = "create", base: int | None = None) -> Json:
    item: Json = {"op_id": f"op-{uuid.uuid4()}", "op": op, "entity": "need", "id": str(nid)}
    if base is not None:
        item["base_version"] = base
    return {**item, "data": data}


async def test_a_phone_records_needs_offline_and_gets_them_back(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    reviewer, subject = await token_headers(anonymous_app, services, Role.REVIEWER, ["13384"])
    c.headers.update(reviewer)
    home = await make_household(services, "13384-02")
    head = await make_member(services, home.id, relation_to_head=Relation.HEAD)
    other = await make_member(services, (await make_household(services, "13384-02")).id)
    start = ok(await c.get(SNAPSHOT, params={"unit": "13384-02", "limit": 1}))["cursor"]

    aid, loan, stray = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    wanted: dict[str, str] = {"household_id": str(home.id), "recorded_on": "2026-03-02"}
    items = [
        need(
            aid,
            {
                **wanted,
                "kind": "legal_aid",
                "member_id": str(head.id),
                "grounds": "financial_hardship",
            },
        ),
        need(loan, {**wanted, "kind": "credit", "note": "Vay vốn chăn nuôi"}),
        need(stray, {**wanted, "kind": "training", "member_id": str(other.id)}),
    ]
    body = {"batch_id": f"b-{uuid.uuid4()}", "items": items}
    first = ok(await c.post("/api/v1/sync/push", json=body))
    assert [(i["outcome"], i["version"]) for i in first["items"]] == [
        ("applied", 1),
        ("applied", 1),
        ("rejected", None),
    ]
    assert [e["path"] for e in first["items"][2]["problem"]["errors"]] == ["items.2.data.member_id"]
    assert ok(await c.post("/api/v1/sync/push", json=body)) == first  # a lost answer, resent

    recorded: list[Json] = ok(await c.get(f"/api/v1/households/{home.id}/needs"))  # type: ignore[assignment]
    assert {(n["id"], n["kind"], n["state"], n["recorded_by"]) for n in recorded} == {
        (str(aid), "legal_aid", "open", subject),
        (str(loan), "credit", "open", subject),
    }
    met = await push(c, [need(aid, {"state": "met"}, "update", 1)])
    assert [(i["outcome"], i["version"]) for i in met["items"]] == [("applied", 2)]
    deleted = await push(c, [need(loan, {}, "delete", 1)])
    (refused,) = deleted["items"]
    assert (refused["outcome"], refused["problem"]["code"]) == ("rejected", "validation_failed")
    assert "withdrawn" in refused["problem"]["errors"][0]["message"]

    # The snapshot carries each household's needs as REST shows them; pull carries changes.
    page = ok(await c.get(SNAPSHOT, params={"unit": "13384-02", "limit": 200}))
    entry = next(h for h in page["households"] if h["household"]["id"] == str(home.id))
    shown: list[Json] = ok(await c.get(f"/api/v1/households/{home.id}/needs"))  # type: ignore[assignment]
    assert sorted(entry["needs"], key=lambda n: n["id"]) == sorted(shown, key=lambda n: n["id"])
    assert {n["id"]: n["version"] for n in entry["needs"]} == {str(aid): 2, str(loan): 1}
    changes, _, _ = await drain(c, start)
    assert [s for s in summary(changes) if s[0] == "need"] == sorted(
        [("need", str(aid), "upsert", 2), ("need", str(loan), "upsert", 1)],
        key=lambda s: [c["id"] for c in changes].index(s[1]),
    )

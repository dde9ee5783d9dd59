"""A simulated phone against the real server process: it works offline for days, then syncs
through a network that loses responses and repeats requests, while an officer edits the same
households. Every change must arrive exactly once, every clash be listed, and both converge."""

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from api.demo import DEMO_PASSWORD
from tests.live import Server

pytestmark = pytest.mark.e2e
Json = dict[str, Any]
VILLAGE = "13384-02"


class Lost(Exception):
    """The request reached the server; its answer did not reach the phone."""


@dataclass
class FlakyNetwork:
    client: httpx.AsyncClient
    rng: random.Random
    lost: int = 0
    repeated: int = 0

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Retry until an answer arrives, as the app does; the network loses about a third of
        the answers and delivers a fifth of the requests twice."""
        while True:
            try:
                return await self._once(method, url, **kwargs)
            except Lost:
                continue

    async def _once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if self.rng.random() < 0.2:
            self.repeated += 1
            await self.client.request(method, url, **kwargs)
        response = await self.client.request(method, url, **kwargs)
        if self.rng.random() < 0.33:
            self.lost += 1
            raise Lost
        return response


@dataclass
class Phone:
    name: str
    net: FlakyNetwork
    headers: dict[str, str]
    store: dict[tuple[str, str], Json] = field(default_factory=dict)
    cursor: str | None = None
    outbox: list[Json] = field(default_factory=list)
    answers: list[Json] = field(default_factory=list)

    async def call(self, method: str, url: str, **kwargs: Any) -> Json:
        response = await self.net.send(method, url, headers=self.headers, **kwargs)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    async def snapshot(self, unit: str) -> None:
        params: dict[str, Any] = {"unit": unit, "limit": 200}
        while True:
            page = await self.call("GET", "/api/v1/sync/snapshot", params=params)
            for h in page["households"]:
                self.store[("household", h["household"]["id"])] = h["household"]
                for m in h["members"]:
                    self.store[("member", m["id"])] = m
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return
            params["after"] = page["next"]

    async def pull(self) -> None:
        while True:
            page = await self.call("GET", "/api/v1/sync/pull", params={"cursor": self.cursor})
            for change in page["changes"]:
                key = (change["entity"], change["id"])
                if change["op"] == "upsert":
                    self.store[key] = change["record"]
                else:
                    self.store.pop(key, None)
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return

    def record(self, op: str, entity: str, rid: str, data: Json, base: int | None = None) -> None:
        self.outbox.append(
            {
                "op_id": f"{self.name}-{len(self.outbox)}",
                "op": op,
                "entity": entity,
                "id": rid,
                "base_version": base,
                "data": data,
            }
        )

    async def push(self, size: int) -> None:
        for start in range(0, len(self.outbox), size):
            batch = {
                "batch_id": f"{self.name}-batch-{start}",
                "items": self.outbox[start : start + size],
            }
            self.answers += (await self.call("POST", "/api/v1/sync/push", json=batch))["items"]
        self.outbox = []


async def _phone(client: httpx.AsyncClient, username: str, seed: int) -> Phone:
    device = str(uuid.uuid4())
    response = await client.post(
        "/api/v1/auth/token",
        data={
            "username": username,
            "password": DEMO_PASSWORD,
            "device_id": device,
            "device_name": f"{username}'s phone",
        },
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "X-App-Version": "1.4.0"}
    return Phone(username, FlakyNetwork(client, random.Random(seed)), headers)


async def _all_changes(client: httpx.AsyncClient, headers: dict[str, str]) -> list[Json]:
    entries: list[Json] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"after": after} if after else {})}
        page = (await client.get("/api/v1/changes", params=params, headers=headers)).json()
        entries += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return entries


async def test_offline_work_arrives_once_conflicts_are_listed_and_phones_converge(
    server: Server,
) -> None:
    client, _, _ = server
    reviewer = await _phone(client, "rsv.kimbang", seed=7)
    officer = await _phone(client, "xa.kimbang", seed=11)
    campaign = (
        await client.post(
            "/api/v1/campaigns",
            headers=officer.headers,
            json={
                "commune_code": "13384",
                "kind": "periodic",
                "name": "Rà soát 2026",
                "opens_on": "2026-09-01",
                "id": str(uuid.uuid4()),
            },
        )
    ).json()
    await reviewer.snapshot(VILLAGE)
    await officer.snapshot(VILLAGE)
    before = len(await _all_changes(client, officer.headers))
    existing = sorted(k[1] for k in reviewer.store if k[0] == "household")[:6]
    versions = {h: reviewer.store[("household", h)]["version"] for h in existing}

    # Offline on the phone: three new families, surveyed, and edits to six households.
    new_households = [str(uuid.uuid4()) for _ in range(3)]
    new_members: list[str] = []
    for n, hid in enumerate(new_households):
        reviewer.record(
            "create",
            "household",
            hid,
            {
                "village_code": VILLAGE,
                "address": f"Xóm mới {n}",
                "floor_area_m2": 30,
                "wall_material": "durable",
                "column_material": "durable",
                "roof_material": "durable",
                "water_source": "piped",
                "latrine_type": "flush_septic",
                "uses_telecom": True,
                "information_assets": ["phone"],
            },
        )
        for who, sex, born in (("head", "male", "1975-04-02"), ("spouse", "female", "1978-09-12")):
            mid = str(uuid.uuid4())
            new_members.append(mid)
            reviewer.record(
                "create",
                "member",
                mid,
                {
                    "household_id": hid,
                    "full_name": f"Lê {who} {n}",
                    "sex": sex,
                    "date_of_birth": born,
                    "relation_to_head": who,
                    "health_insurance": True,
                    "employment": "self_employed",
                    "education_level": "upper_secondary",
                    "labour_capacity": True,
                },
            )
        reviewer.record(
            "create",
            "assessment",
            str(uuid.uuid4()),
            {
                "campaign_id": campaign["id"],
                "household_id": hid,
                "surveyed_on": "2026-10-20",
                "answers": {
                    "monthly_income_per_capita": 1_800_000,
                    "indicators": {"nutrition": {"deprived": False}},
                },
            },
        )
    for h in existing:
        reviewer.record("update", "household", h, {"floor_area_m2": 55.5}, versions[h])
    reviewer.record(
        "update", "household", existing[0], {"address": "Số 1 (phone)"}, versions[existing[0]]
    )

    # Meanwhile the officer, online, edits three of them: two other fields, one the same.
    for h in existing[1:3]:
        officer.record("update", "household", h, {"uses_telecom": False}, versions[h])
    officer.record(
        "update", "household", existing[0], {"address": "Số 1 (office)"}, versions[existing[0]]
    )
    await officer.push(size=10)
    assert [a["outcome"] for a in officer.answers] == ["applied"] * 3

    await reviewer.push(size=4)
    outcomes = [(a["outcome"], a["entity"]) for a in reviewer.answers]
    assert reviewer.net.lost > 0
    assert reviewer.net.repeated > 0
    # The floor-area edit of existing[0] was based on the version the officer changed (its
    # address): untouched fields merge; the address clash is the one conflict.
    assert outcomes.count(("conflict", "household")) == 1
    assert outcomes.count(("rejected", "household")) == 0
    assert {o for o, _ in outcomes} <= {"applied", "merged", "conflict", "duplicate"}

    # Exactly once on the server, whatever the network did.
    changes = await _all_changes(client, officer.headers)
    created = [c["entity_id"] for c in changes[before:] if c["operation"] == "create"]
    for rid in new_households + new_members:
        assert created.count(rid) == 1, rid
    assert sum(1 for c in changes[before:] if c["entity_type"] == "assessment") == 3
    for n, h in enumerate(existing):
        current = (await client.get(f"/api/v1/households/{h}", headers=officer.headers)).json()
        assert current["floor_area_m2"] == 55.5
        officer_edits = 1 if n < 3 else 0
        assert current["version"] == versions[h] + officer_edits + 1, (n, current)
        if n in (1, 2):
            assert current["uses_telecom"] is False  # the officer's change survived the merge
    first = (await client.get(f"/api/v1/households/{existing[0]}", headers=officer.headers)).json()
    assert first["address"] == "Số 1 (office)"
    conflicts = (
        await client.get(
            "/api/v1/sync/items", params={"outcome": "conflict"}, headers=officer.headers
        )
    ).json()
    mine = [c for c in conflicts if c["entity_id"] == existing[0]]
    assert len(mine) == 1
    assert mine[0]["payload"] == {"address": "Số 1 (phone)"}

    # Both phones pull and hold the same records as the server.
    for phone in (reviewer, officer):
        await phone.pull()
    touched = [("household", h) for h in existing + new_households]
    touched += [("member", m) for m in new_members]
    for key in touched:
        assert reviewer.store[key] == officer.store[key], key
    assert reviewer.store[("household", existing[0])]["address"] == "Số 1 (office)"

    # The officer takes the phone's value; after the next pull both phones have it.
    resolved = await client.post(
        f"/api/v1/sync/items/{mine[0]['id']}/resolve",
        json={"resolution": "take_mine"},
        headers=officer.headers,
    )
    assert resolved.status_code == 200, resolved.text
    for phone in (reviewer, officer):
        await phone.pull()
    assert reviewer.store[("household", existing[0])]["address"] == "Số 1 (phone)"
    assert reviewer.store[("household", existing[0])] == officer.store[("household", existing[0])]

    log = (await client.get("/api/v1/sync/sessions", headers=officer.headers)).json()
    pushes = [s for s in log if s["kind"] == "push" and s["actor"].startswith("user:")]
    assert pushes
    assert all(s["app_version"] == "1.4.0" for s in pushes)
    assert {s["counts"].get("conflict", 0) for s in pushes} >= {1}

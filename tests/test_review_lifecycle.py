import json
from datetime import date

import httpx

from api.domain.services import Services
from tests.builders import SOUND_HOME, drive, make_household, open_campaign, survey


async def test_explore(client: httpx.AsyncClient, services: Services) -> None:
    campaign = await open_campaign(client)
    print(json.dumps(campaign, indent=1))
    hh = await make_household(services, "13384-01", **SOUND_HOME)
    r = await client.post("/api/v1/assessments", json={"campaign_id": campaign["id"], "household_id": str(hh.id), "surveyed_on": "2022-09-15", "answers": survey(1_000_000, deprived=True)})
    print(r.status_code, dict(r.headers))
    print(json.dumps(r.json(), indent=1, ensure_ascii=False))
    a = await drive(client, r.json(), "certified")
    print(json.dumps(a, indent=1, ensure_ascii=False))
    r = await client.get(f"/api/v1/households/{hh.id}/status-history")
    print(json.dumps(r.json(), indent=1, ensure_ascii=False))
    r = await client.get(f"/api/v1/households/{hh.id}/status", params={"as_of": "2023-01-01"})
    print(json.dumps(r.json(), indent=1, ensure_ascii=False))
    r = await client.get("/api/v1/changes", params={"limit": 5})
    print(json.dumps(r.json(), indent=1, ensure_ascii=False))

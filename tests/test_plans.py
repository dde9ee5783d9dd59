"""Plans, targets and tasks through the API: progress read live from the records, the
open campaign's pipeline, cascades checked, tasks updated by their agency, overdue derived."""

from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from api.domain.access import Role
from api.domain.services import Services
from tests.builders import assess, drive, ok, open_campaign, refusal, survey, token_headers

Json = dict[str, Any]
COMMUNE, VILLAGE = "13435", "13435-02"
SIX = ["13384", "13393", "13396", "13402", "13420", "13435"]


def listed(response: httpx.Response) -> list[Json]:
    assert response.status_code == 200, response.text
    found: list[Json] = response.json()
    return found


def plan_body(unit: str, year: int, **extra: Any) -> Json:
    return {
        "unit_code": unit,
        "title_vi": f"Kế hoạch giảm nghèo năm {year}",
        "issuing_agency": "UBND xã Thi Sơn",
        "programme": "mtqg-2026-2035" if year >= 2026 else "mtqg-gnbv-2021-2025",
        "year": year,
        "period_from": f"{year}-01-01",
        "period_to": f"{year}-12-31",
        "status": "issued",
        **extra,
    }


def target_body(indicator: str, baseline: float | None, target: float, **extra: Any) -> Json:
    return {
        "indicator": indicator,
        "baseline_value": baseline,
        "baseline_on": "2025-12-31",
        "target_value": target,
        "target_on": "2026-12-31",
        "tolerance": 1.0,
        **extra,
    }


async def test_progress_is_read_live_with_its_pipeline_and_tasks_follow_their_agency(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, [COMMUNE])
    c.headers.update(officer)
    campaign = await open_campaign(c, 2025, commune=COMMUNE)
    poor = [
        await assess(c, services, campaign, survey(1_000_000, deprived=True), VILLAGE)
        for _ in range(2)
    ]
    fine = [await assess(c, services, campaign, survey(9_000_000), VILLAGE) for _ in range(2)]
    for a in poor + fine:
        await drive(c, a, "recognised", date(2025, 12, 20))

    plan = ok(await c.post("/api/v1/plans", json=plan_body(COMMUNE, 2026)), 201)
    assert plan["territory"] == ["37/13435"]
    ok(
        await c.post(
            f"/api/v1/plans/{plan['id']}/targets",
            json=target_body("poor-rate-households", 50.0, 25.0),
        ),
        201,
    )
    trained = ok(
        await c.post(
            f"/api/v1/plans/{plan['id']}/targets", json=target_body("staff-trained", None, 100.0)
        ),
        201,
    )
    task = {"title_vi": "Trợ giúp pháp lý", "owner_agency": "justice", "due_on": "2026-01-31"}
    legal = ok(await c.post(f"/api/v1/plans/{plan['id']}/tasks", json=task), 201)
    training = ok(
        await c.post(
            f"/api/v1/plans/{plan['id']}/tasks",
            json={
                "title_vi": "Tập huấn cán bộ giảm nghèo",
                "owner_agency": "labour",
                "target_ids": [trained["id"]],
                "due_on": "2026-12-31",
            },
        ),
        201,
    )
    reports = ok(
        await c.post(
            f"/api/v1/plans/{plan['id']}/tasks",
            json={
                "title_vi": "Báo cáo 6 tháng",
                "owner_agency": "commune",
                "recurrence": "half_yearly",
            },
        ),
        201,
    )
    assert (legal["overdue"], reports["due_on"]) == (True, "2026-12-31")
    assert reports["overdue"]  # the June report was due and nothing came

    # The next review is under way: one poor household assessed out, one other in.
    later = await open_campaign(c, 2026, commune=COMMUNE)
    for a, income in ((poor[0], 9_000_000), (fine[0], 1_000_000)):
        body = {
            "campaign_id": later["id"],
            "household_id": a["household_id"],
            "surveyed_on": later["opens_on"],
            "answers": survey(income, deprived=income < 2_000_000),
        }
        ok(await c.post("/api/v1/assessments", json=body), 201)

    # Read now: the households were recorded today, so earlier days do not count them.
    progress = ok(await c.get(f"/api/v1/plans/{plan['id']}/progress"))
    days = (date.fromisoformat(progress["as_of"]) - date(2025, 12, 31)).days
    by_indicator = {t["indicator"]: t for t in progress["targets"]}
    live = by_indicator["poor-rate-households"]
    assert (
        live["current"]["value"],
        live["current"]["numerator"],
        live["current"]["denominator"],
    ) == (
        50.0,
        2,
        4,
    )
    assert live["elapsed"] == round(min(1, days / 365), 4)
    assert live["expected_value"] == round(50 - 25 * min(1, days / 365), 4)
    assert (live["progress"], live["verdict"], live["verdict_vi"]) == (
        0.0,
        "off_track",
        "Chậm tiến độ",
    )
    assert live["pipeline"] == {"assessed": 2, "joining": 1, "leaving": 1, "projected_value": 50.0}
    assert by_indicator["staff-trained"]["verdict"] == "unknown"
    assert progress["board"]["total"] == 3

    # Agency staff see and update only their agency's tasks.
    justice, lawyer = await token_headers(
        anonymous_app, services, Role.AGENCY_OFFICER, SIX, "justice"
    )
    labour, _ = await token_headers(anonymous_app, services, Role.AGENCY_OFFICER, SIX, "labour")
    seen = listed(await c.get(f"/api/v1/plans/{plan['id']}/tasks", headers=justice))
    assert [t["id"] for t in seen] == [legal["id"]]
    refusal(
        await c.post(f"/api/v1/tasks/{legal['id']}/updates", json={"note": "x"}, headers=labour),
        404,
        "not_found",
    )
    done = {"note": "Đã trợ giúp 3 vụ việc", "evidence": "Sổ thụ lý", "status": "done"}
    update = ok(
        await c.post(f"/api/v1/tasks/{legal['id']}/updates", json=done, headers=justice), 201
    )
    assert (update["by"], update["status"]) == (lawyer, "done")
    figures = {
        "note": "Đã tập huấn 45 người",
        "reported_numerator": 45,
        "reported_denominator": 50,
        "reported_on": "2026-05-20",
    }
    ok(await c.post(f"/api/v1/tasks/{training['id']}/updates", json=figures, headers=labour), 201)
    ok(
        await c.post(
            f"/api/v1/tasks/{reports['id']}/updates", json={"note": "Báo cáo 6 tháng đầu năm"}
        ),
        201,
    )
    tasks = {t["id"]: t for t in listed(await c.get(f"/api/v1/plans/{plan['id']}/tasks"))}
    assert (tasks[legal["id"]]["status"], tasks[legal["id"]]["overdue"]) == ("done", False)
    assert tasks[reports["id"]]["overdue"] is False
    assert tasks[legal["id"]]["last_update"]["note"] == "Đã trợ giúp 3 vụ việc"
    again = ok(await c.get(f"/api/v1/plans/{plan['id']}/progress"))
    reported = next(t for t in again["targets"] if t["indicator"] == "staff-trained")
    assert (reported["current"]["value"], reported["current"]["numerator"]) == (90.0, 45)
    assert again["board"]["overdue"] == 0

    # GraphQL answers the same, from the same service.
    query = (
        "query($id: UUID!) { planProgress(planId: $id) {"
        " targets { indicator verdict current { value numerator denominator } } } }"
    )
    graph = ok(await c.post("/graphql", json={"query": query, "variables": {"id": plan["id"]}}))
    assert {
        t["indicator"]: (t["verdict"].lower(), t["current"]["value"])
        for t in graph["data"]["planProgress"]["targets"]
    } == {t["indicator"]: (t["verdict"], t["current"]["value"]) for t in again["targets"]}


async def test_commune_targets_cascade_and_the_sum_check_warns(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    district, _ = await token_headers(anonymous_app, services, Role.DISTRICT_OFFICER, SIX)
    commune, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    c.headers.update(district)
    body = plan_body("350", 2023, issuing_agency="UBND huyện Kim Bảng")
    refusal(await c.post("/api/v1/plans", json=body, headers=commune), 422, "validation_failed")
    plan = ok(await c.post("/api/v1/plans", json=body), 201)
    assert plan["territory"] == [f"37/{code}" for code in SIX]
    url = f"/api/v1/plans/{plan['id']}/targets"
    dated = {"baseline_on": "2022-12-31", "target_on": "2023-12-31", "tolerance": 0.0}
    parent = ok(
        await c.post(url, json={**target_body("newly-escaped-households", 0, 10), **dated}), 201
    )
    a = ok(
        await c.post(
            url,
            json={
                **target_body("newly-escaped-households", 0, 4),
                **dated,
                "unit_code": "13387",
                "parent_id": parent["id"],
            },
        ),
        201,
    )
    ok(
        await c.post(
            url,
            json={
                **target_body("newly-escaped-households", 0, 5),
                **dated,
                "unit_code": "13390",
                "parent_id": parent["id"],
            },
        ),
        201,
    )
    first = ok(await c.get(f"/api/v1/plans/{plan['id']}/progress"))
    assert first["warnings"] == [
        "Chỉ tiêu “Số hộ thoát nghèo trong kỳ” của 2 đơn vị cấp dưới gộp lại là 9, khác chỉ "
        "tiêu 10 của đơn vị 350"
    ]
    ok(await c.patch(f"/api/v1/targets/{a['id']}", json={"target_value": 5, "version": 1}))
    fixed = ok(await c.get(f"/api/v1/plans/{plan['id']}/progress"))
    assert fixed["warnings"] == []
    cascade = next(t for t in fixed["targets"] if t["target_id"] == parent["id"])["cascade"]
    assert cascade == {
        "children": 2,
        "combined_target": 10.0,
        "consistent": True,
        "message_vi": None,
    }

    # A commune officer reads the district's plan that binds its commune, but may not set it.
    assert plan["id"] in [p["id"] for p in listed(await c.get("/api/v1/plans", headers=commune))]
    refusal(
        await c.post(url, json=target_body("poor-rate-households", 2.5, 1.95), headers=commune),
        403,
        "forbidden",
    )

    problems = [
        ({**target_body("no-such-indicator", 1, 2)}, 422, "body.indicator"),
        (
            {
                **target_body("newly-escaped-households", 0, 3),
                **dated,
                "unit_code": "13504",
                "parent_id": parent["id"],
            },
            422,
            "body.unit_code",
        ),
        (
            {
                **target_body("poor-rate-households", 2, 1),
                **dated,
                "parent_id": parent["id"],
                "unit_code": "13393",
            },
            422,
            "body.parent_id",
        ),
        ({**target_body("newly-escaped-households", 0, 10), **dated}, 409, None),
    ]
    for sent, status, path in problems:
        answer = await c.post(url, json=sent)
        assert answer.status_code == status, (sent, answer.text)
        if path:
            assert path in [e["path"] for e in answer.json()["errors"]], answer.text
    wrong = {"title_vi": "x", "owner_agency": "nobody"}
    problem = refusal(
        await c.post(f"/api/v1/plans/{plan['id']}/tasks", json=wrong), 422, "validation_failed"
    )
    assert [e["path"] for e in problem["errors"]] == ["body.owner_agency"]


async def test_graphql_sets_plans_through_the_same_service(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, [COMMUNE])
    c.headers.update(officer)
    create = (
        'mutation($input: PlanInput!) { createPlan(input: $input, idempotencyKey: "p-1")'
        " { id unitCode territory status } }"
    )
    plan_input = {
        "unitCode": COMMUNE,
        "titleVi": "Kế hoạch năm 2026",
        "issuingAgency": "UBND xã",
        "programme": "mtqg-2026-2035",
        "year": 2026,
        "periodFrom": "2026-01-01",
        "periodTo": "2026-12-31",
    }
    first = ok(await c.post("/graphql", json={"query": create, "variables": {"input": plan_input}}))
    again = ok(await c.post("/graphql", json={"query": create, "variables": {"input": plan_input}}))
    plan = first["data"]["createPlan"]
    assert again["data"]["createPlan"] == plan  # the same key: the same plan, once
    assert (plan["territory"], plan["status"]) == (["37/13435"], "DRAFT")
    add_task = (
        "mutation($id: UUID!, $input: PlanTaskInput!) { addPlanTask(planId: $id, input: $input)"
        " { id ownerAgency overdue } }"
    )
    wrong = ok(
        await c.post(
            "/graphql",
            json={
                "query": add_task,
                "variables": {"id": plan["id"], "input": {"titleVi": "x", "ownerAgency": "nobody"}},
            },
        )
    )
    assert wrong["errors"][0]["extensions"]["code"] == "validation_failed"
    task = ok(
        await c.post(
            "/graphql",
            json={
                "query": add_task,
                "variables": {
                    "id": plan["id"],
                    "input": {"titleVi": "Vay vốn", "ownerAgency": "social_policy_bank"},
                },
            },
        )
    )["data"]["addPlanTask"]
    bank, _ = await token_headers(
        anonymous_app, services, Role.AGENCY_OFFICER, [COMMUNE], "social_policy_bank"
    )
    post = (
        "mutation($id: UUID!, $input: PlanTaskUpdateInput!) {"
        " postTaskUpdate(taskId: $id, input: $input) { taskId note progress } }"
    )
    update = {"note": "Đã giải ngân 12 hộ", "progress": 40}
    posted = ok(
        await c.post(
            "/graphql",
            json={"query": post, "variables": {"id": task["id"], "input": update}},
            headers=bank,
        )
    )["data"]["postTaskUpdate"]
    assert posted == {"taskId": task["id"], "note": "Đã giải ngân 12 hộ", "progress": 40.0}
    (shown,) = listed(await c.get(f"/api/v1/tasks/{task['id']}/updates"))
    assert (shown["note"], shown["progress"]) == ("Đã giải ngân 12 hộ", 40.0)


async def test_alerts_follow_their_causes(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, [COMMUNE])
    c.headers.update(officer)
    campaign = await open_campaign(c, 2025, commune=COMMUNE)
    for answers in (survey(1_000_000, deprived=True), survey(9_000_000)):
        await drive(
            c,
            await assess(c, services, campaign, answers, VILLAGE),
            "recognised",
            date(2025, 12, 20),
        )
    draft = ok(await c.post("/api/v1/plans", json=plan_body(COMMUNE, 2026, status="draft")), 201)
    url = f"/api/v1/plans/{draft['id']}"
    ok(await c.post(f"{url}/targets", json=target_body("poor-rate-households", 50.0, 10.0)), 201)
    task = {"title_vi": "Trợ giúp pháp lý", "owner_agency": "justice", "due_on": "2026-01-31"}
    late = ok(await c.post(f"{url}/tasks", json=task), 201)
    assert listed(await c.get("/api/v1/alerts")) == []  # a draft binds nobody yet

    ok(await c.patch(url, json={"status": "issued", "version": 1}))
    alerts = listed(await c.get("/api/v1/alerts"))
    assert sorted((a["kind"], a["unit_code"], a["agency"]) for a in alerts) == [
        ("target_off_track", COMMUNE, None),
        ("task_overdue", COMMUNE, "justice"),
    ]
    overdue = next(a for a in alerts if a["kind"] == "task_overdue")
    assert overdue["message_vi"] == (
        "Nhiệm vụ quá hạn (hạn 31/01/2026) của Phòng Tư pháp: Trợ giúp pháp lý"
    )
    off = next(a for a in alerts if a["kind"] == "target_off_track")
    assert off["message_vi"].startswith(
        "“Tỷ lệ hộ nghèo” của đơn vị 13435 chậm tiến độ: 50,00, cần đạt"
    )

    # The justice office sees its own task's alert; done, the alert is gone for everyone.
    justice, _ = await token_headers(
        anonymous_app, services, Role.AGENCY_OFFICER, [COMMUNE], "justice"
    )
    theirs = listed(await c.get("/api/v1/alerts", headers=justice))
    assert [a["subject_id"] for a in theirs if a["kind"] == "task_overdue"] == [late["id"]]
    done = {"note": "Đã xong", "status": "done"}
    ok(await c.post(f"/api/v1/tasks/{late['id']}/updates", json=done, headers=justice), 201)
    assert [a["kind"] for a in listed(await c.get("/api/v1/alerts"))] == ["target_off_track"]
    graph = ok(await c.post("/graphql", json={"query": "{ planAlerts { kind unitCode } }"}))
    assert graph["data"]["planAlerts"] == [{"kind": "target_off_track", "unitCode": COMMUNE}]

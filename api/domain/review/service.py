"""Review use cases: assessments and their lifecycle (campaigns and recognition are mixed in)."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.base import new_id, utcnow
from api.domain.changes.models import Operation
from api.domain.errors import (
    Conflict,
    FieldProblem,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from api.domain.households.models import Household
from api.domain.kernel import paging, records
from api.domain.kernel.areas import covers
from api.domain.kernel.records import check_version
from api.domain.kernel.registry import Stored
from api.domain.pagination import Page
from api.domain.review.assess import LISTED, evaluate
from api.domain.review.base import enum_value
from api.domain.review.campaigns import CampaignOps
from api.domain.review.lifecycle import EDITABLE, STEPS, Action, TransitionRequest
from api.domain.review.models import (
    Answers,
    Assessment,
    AssessmentCreate,
    AssessmentPublic,
    AssessmentUpdate,
    CampaignState,
    State,
)
from api.domain.review.places import place_of
from api.domain.review.recognition import RecognitionOps
from api.domain.review.records import ASSESSMENT
from api.domain.uow import RequestKey

BY_CREATION = paging.by_creation("as", Assessment)


class ReviewService(CampaignOps, RecognitionOps):
    # Assessments ---------------------------------------------------------------------------

    async def create_assessment(
        self, data: AssessmentCreate, key: RequestKey | None = None
    ) -> AssessmentPublic:
        access.require(self.principal, Permission.REVIEW_SURVEY)
        return await self.uow.run_keyed(
            key, AssessmentPublic, 201, lambda: self._create_assessment(data)
        )

    async def _create_assessment(self, data: AssessmentCreate) -> AssessmentPublic:
        campaign = await self._campaign(data.campaign_id, "campaign_id")
        if campaign.state != CampaignState.OPEN:
            raise ValidationFailed([FieldProblem("campaign_id", "campaign is closed", "closed")])
        household = await self._household(data.household_id)
        if not covers(campaign.unit_path, household.unit_path):
            raise ValidationFailed(
                [FieldProblem("household_id", "not in the campaign's commune", "out_of_scope")]
            )
        assessment_id = data.id or new_id()
        if await self.session.get(Assessment, assessment_id) is not None:
            raise Conflict(f"an assessment with id {assessment_id} already exists")
        taken = await self.session.scalar(
            select(col(Assessment.id)).where(
                col(Assessment.campaign_id) == campaign.id,
                col(Assessment.household_id) == household.id,
                col(Assessment.deleted_at).is_(None),
            )
        )
        if taken is not None:
            raise Conflict(
                "this household already has an assessment in the campaign",
                extra={"existing_id": str(taken)},
            )
        row = Assessment(
            id=assessment_id,
            campaign_id=campaign.id,
            household_id=household.id,
            unit_path=household.unit_path,
            standard_code=campaign.standard_code,
            review_date=campaign.closes_on,
            area="rural",
            surveyed_by=self.principal.subject,
            surveyed_on=data.surveyed_on,
            answers=data.answers.model_dump(mode="json"),
        )
        await self._evaluate(row, household, strict=False)
        self.session.add(row)
        await self.uow.flush()
        self.uow.created(ASSESSMENT.entity, row)
        return self._shown(row)

    async def _evaluate(self, row: Assessment, household: Household, *, strict: bool) -> None:
        """Derive, merge and classify from the household's facts now. `strict`: the survey
        must be complete enough to classify (submission)."""
        standard = self.catalog.get(row.standard_code)
        key = (household.village_code, row.review_date)
        place = self._places.get(key) or await place_of(self.session, *key)
        self._places[key] = place
        answers = Answers.model_validate(row.answers)
        members = await self._members(household.id)
        outcome = evaluate(
            standard, place.area, place.province_code, household, members, row.review_date, answers
        )
        problems = list(outcome.problems)
        c = outcome.classification
        if strict and c.status is None:
            problems += [
                FieldProblem(_answer_path(m), "needed to classify the household", "required")
                for m in c.missing
            ]
        if problems:
            raise ValidationFailed(problems)
        row.area = place.area.value
        row.indicators = [r.model_dump(mode="json") for r in outcome.indicators]
        row.status = c.status
        row.deprivation_count = c.deprivation_count
        row.missing = list(c.missing)
        row.explanation = c.explanation[:500]

    async def _load(self, assessment_id: uuid.UUID, *, for_update: bool = False) -> Assessment:
        records.reading(self.uow, ASSESSMENT)
        row: Assessment = await records.load(
            self.uow, ASSESSMENT, assessment_id, for_update=for_update
        )
        return row

    async def assessment(self, assessment_id: uuid.UUID) -> AssessmentPublic:
        return self._shown(await self._load(assessment_id))

    async def assessments_by_id(
        self, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, AssessmentPublic]:
        records.reading(self.uow, ASSESSMENT)
        rows = await records.rows_of(self.uow, ASSESSMENT, ids)
        return {r.id: self._shown(r) for r in rows}

    async def find_assessments(
        self,
        after: str | None,
        limit: int,
        campaign_id: uuid.UUID | None = None,
        household_id: uuid.UUID | None = None,
        state: Sequence[State] | None = None,
    ) -> Page[AssessmentPublic]:
        records.reading(self.uow, ASSESSMENT)
        stmt = ASSESSMENT.readable(self.principal)
        if campaign_id:
            stmt = stmt.where(col(Assessment.campaign_id) == campaign_id)
        if household_id:
            stmt = stmt.where(col(Assessment.household_id) == household_id)
        if state:
            stmt = stmt.where(col(Assessment.state).in_(state))
        rows, cursors, more = await paging.page(self.uow, stmt, BY_CREATION, after, limit)
        return Page[AssessmentPublic].of([self._shown(r) for r in rows], cursors, more)

    async def update_assessment(
        self, assessment_id: uuid.UUID, data: AssessmentUpdate, if_match: int | None = None
    ) -> AssessmentPublic:
        access.require(self.principal, Permission.REVIEW_SURVEY)
        row = await self._load(assessment_id, for_update=True)
        check_version(
            data.version if data.version is not None else if_match, row.version, "the assessment"
        )
        if row.state not in EDITABLE:
            raise InvalidTransition(
                f"the assessment is {row.state.value}; only a draft or one returned for "
                "re-survey can be edited",
                extra={"state": row.state.value},
            )
        changed: dict[str, Any] = {}
        if data.surveyed_on is not None and data.surveyed_on != row.surveyed_on:
            changed["surveyed_on"] = [str(row.surveyed_on), str(data.surveyed_on)]
            row.surveyed_on = data.surveyed_on
        if data.answers is not None:
            answers = data.answers.model_dump(mode="json")
            if answers != row.answers:
                changed["answers"] = [None, None]
                row.answers = answers
        household = await self._household(row.household_id)
        before = row.status
        await self._evaluate(row, household, strict=False)
        if row.status != before:
            changed["status"] = [enum_value(before), enum_value(row.status)]
        if not changed:
            return self._shown(row)
        self.uow.touch(ASSESSMENT.entity, row, diff=changed)
        await self.uow.commit()
        return self._shown(row)

    async def delete_assessment(
        self, assessment_id: uuid.UUID, if_match: int | None = None
    ) -> None:
        """Discard a draft recorded in error; a submitted survey is refused instead."""
        access.require(self.principal, Permission.REVIEW_SURVEY)
        row = await self._load(assessment_id, for_update=True)
        check_version(if_match, row.version, "the assessment")
        if row.state not in EDITABLE:
            raise InvalidTransition(
                f"the assessment is {row.state.value}; only a draft can be deleted",
                extra={"state": row.state.value},
            )
        self.uow.remove(ASSESSMENT.entity, row)
        await self.uow.commit()

    # Device sync calls the same use cases.

    async def create_record(self, record_id: uuid.UUID, data: dict[str, Any]) -> Stored:
        a = await self.create_assessment(AssessmentCreate.model_validate({**data, "id": record_id}))
        return Stored(a.version, a.unit_path)

    async def update_record(
        self, record_id: uuid.UUID, data: dict[str, Any], version: int
    ) -> Stored:
        a = await self.update_assessment(record_id, AssessmentUpdate.model_validate(data), version)
        return Stored(a.version, a.unit_path)

    async def delete_record(self, record_id: uuid.UUID, version: int) -> None:
        await self.delete_assessment(record_id, version)

    # Lifecycle -----------------------------------------------------------------------------

    async def transition(
        self, assessment_id: uuid.UUID, req: TransitionRequest, if_match: int | None = None
    ) -> AssessmentPublic:
        step = STEPS[req.action]
        access.require(self.principal, step.permission)
        row = await self._load(assessment_id, for_update=True)
        check_version(
            req.version if req.version is not None else if_match, row.version, "the assessment"
        )
        await self._apply(row, req)
        await self.uow.commit()
        return self._shown(row)

    async def transition_many(
        self, campaign_id: uuid.UUID, ids: Sequence[uuid.UUID], req: TransitionRequest
    ) -> list[AssessmentPublic]:
        """One step for a list (a village meeting, a recognition decision): all or nothing."""
        step = STEPS[req.action]
        access.require(self.principal, step.permission)
        await self._campaign(campaign_id)
        if req.version is not None:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "version", "versions are per assessment: not used in a batch", "not_allowed"
                    )
                ]
            )
        done = []
        seen: set[uuid.UUID] = set()
        for i, assessment_id in enumerate(ids):
            if assessment_id in seen:
                continue
            seen.add(assessment_id)
            try:
                row = await self._load(assessment_id, for_update=True)
                if row.campaign_id != campaign_id:
                    raise NotFound(f"no assessment {assessment_id} in campaign {campaign_id}")
                await self._apply(row, req)
            except (InvalidTransition, NotFound, ValidationFailed) as exc:
                await self.uow.rollback()
                exc.extra = {**exc.extra, "index": i, "assessment_id": str(assessment_id)}
                raise
            done.append(row)
        await self.uow.commit()
        return [self._shown(r) for r in done]

    async def _apply(self, row: Assessment, req: TransitionRequest) -> None:
        step = STEPS[req.action]
        if row.state not in step.sources:
            allowed = ", ".join(sorted(s.value for s in step.sources))
            raise InvalidTransition(
                f"cannot {req.action.value} an assessment that is {row.state.value} "
                f"(allowed from: {allowed})",
                extra={"state": row.state.value, "action": req.action.value},
            )
        problems = []
        if step.needs and getattr(req, step.needs) is None:
            problems.append(FieldProblem(step.needs, f"required to {req.action.value}", "required"))
        if step.reason_required and not req.reason:
            problems.append(FieldProblem("reason", f"required to {req.action.value}", "required"))
        if problems:
            raise ValidationFailed(problems)
        source = row.state
        target = await self._target(row, req)
        row.state = target
        row.transitions = [
            *row.transitions,
            {
                "at": utcnow().isoformat(),
                "by": self.principal.subject,
                "action": req.action.value,
                "from_state": source.value,
                "to_state": target.value,
                "reason": req.reason,
            },
        ]
        self.uow.touch(
            ASSESSMENT.entity,
            row,
            Operation.TRANSITION,
            {"state": [source.value, target.value], "action": [None, req.action.value]},
        )
        await self.uow.flush()

    async def _target(self, row: Assessment, req: TransitionRequest) -> State:
        a = req.action
        if a == Action.SUBMIT:
            await self._evaluate(row, await self._household(row.household_id), strict=True)
            return State.SUBMITTED
        if a == Action.RECORD_MEETING:
            assert req.meeting is not None
            m = req.meeting
            if m.agreeing > m.attendees:
                raise ValidationFailed(
                    [FieldProblem("meeting.agreeing", "more than attended", "invalid_range")]
                )
            row.meeting = m.model_dump(mode="json")
            share = self.catalog.procedure.meeting_agreement_share
            return State.AGREED if m.agreeing >= share * m.attendees else State.RETURNED
        if a == Action.POST:
            row.posted_on = req.posted_on
            return State.POSTED
        if a == Action.RECORD_COMPLAINT:
            assert req.complaint is not None
            row.complaints = [*row.complaints, req.complaint.model_dump(mode="json")]
            return State.POSTED
        if a == Action.RETURN_FOR_RESURVEY:
            return State.RETURNED
        if a == Action.DISTRICT_OPINION:
            assert req.district_opinion is not None
            row.district_opinion = req.district_opinion.model_dump(mode="json")
            return State.DISTRICT_REVIEWED if req.district_opinion.agrees else State.RETURNED
        if a == Action.RECOGNISE:
            assert req.decision is not None
            needs_district = self.catalog.procedure.district_opinion_required(
                req.decision.decided_on
            )
            if needs_district and row.state != State.DISTRICT_REVIEWED:
                raise InvalidTransition(
                    f"a decision of {req.decision.decided_on} needs the district's opinion first",
                    extra={"state": row.state.value, "action": a.value},
                )
            if req.decision.decided_on < row.surveyed_on:
                raise ValidationFailed(
                    [
                        FieldProblem(
                            "decision.decided_on",
                            f"before the survey ({row.surveyed_on})",
                            "out_of_order",
                        )
                    ]
                )
            await self._recognise(row, req.decision.decided_on, req.decision.number)
            row.decision = req.decision.model_dump(mode="json")
            return State.RECOGNISED
        if a == Action.ISSUE_CERTIFICATE:
            assert req.certificate is not None
            if row.status not in LISTED:
                raise InvalidTransition(
                    "certificates are issued to poor and near-poor households only",
                    extra={"state": row.state.value, "action": a.value},
                )
            row.certificate = req.certificate.model_dump(mode="json")
            return State.CERTIFIED
        return State.REFUSED


def _answer_path(missing: str) -> str:
    named = {"income": "monthly_income_per_capita", "agricultural": "agricultural"}
    return "answers." + named.get(missing, "indicators." + missing)

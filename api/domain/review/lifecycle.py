"""The review's state machine: which step is allowed from which state, by whom."""

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Field

from api.domain.access import Permission
from api.domain.base import Input
from api.domain.review.models import (
    Certificate,
    Complaint,
    Decision,
    DistrictOpinion,
    Meeting,
    State,
)
from api.domain.strict import Day


class Action(StrEnum):
    SUBMIT = "submit"
    RECORD_MEETING = "record_meeting"
    POST = "post"
    RECORD_COMPLAINT = "record_complaint"
    RETURN_FOR_RESURVEY = "return_for_resurvey"
    DISTRICT_OPINION = "district_opinion"
    RECOGNISE = "recognise"
    ISSUE_CERTIFICATE = "issue_certificate"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Step:
    sources: frozenset[State]
    permission: Permission
    needs: str | None = None
    reason_required: bool = False


S, P = State, Permission
STEPS: dict[Action, Step] = {
    Action.SUBMIT: Step(frozenset({S.DRAFT, S.RETURNED}), P.REVIEW_SURVEY),
    Action.RECORD_MEETING: Step(frozenset({S.SUBMITTED}), P.REVIEW_MANAGE, "meeting"),
    Action.POST: Step(frozenset({S.AGREED}), P.REVIEW_MANAGE, "posted_on"),
    Action.RECORD_COMPLAINT: Step(frozenset({S.POSTED}), P.REVIEW_MANAGE, "complaint"),
    Action.RETURN_FOR_RESURVEY: Step(
        frozenset({S.AGREED, S.POSTED}), P.REVIEW_MANAGE, reason_required=True
    ),
    Action.DISTRICT_OPINION: Step(
        frozenset({S.POSTED}), P.REVIEW_DISTRICT_OPINION, "district_opinion"
    ),
    Action.RECOGNISE: Step(frozenset({S.POSTED, S.DISTRICT_REVIEWED}), P.REVIEW_MANAGE, "decision"),
    Action.ISSUE_CERTIFICATE: Step(frozenset({S.RECOGNISED}), P.REVIEW_MANAGE, "certificate"),
    Action.REFUSE: Step(
        frozenset({S.SUBMITTED, S.AGREED, S.POSTED, S.DISTRICT_REVIEWED}),
        P.REVIEW_MANAGE,
        reason_required=True,
    ),
}
EDITABLE = frozenset({S.DRAFT, S.RETURNED})


class TransitionRequest(Input):
    """One step of the review. Each action needs its own record: `meeting` for
    record_meeting, `posted_on` for post, `complaint`, `district_opinion`, `decision`,
    `certificate`; return_for_resurvey and refuse need a `reason`."""

    action: Action
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")
    reason: str | None = Field(default=None, min_length=1, max_length=2000)
    meeting: Meeting | None = None
    posted_on: Day | None = None
    complaint: Complaint | None = None
    district_opinion: DistrictOpinion | None = None
    decision: Decision | None = None
    certificate: Certificate | None = None


class BatchTransition(TransitionRequest):
    """The same step for many assessments of one campaign (a village meeting's list, a
    recognition decision), applied all or nothing."""

    assessment_ids: list[uuid.UUID] = Field(min_length=1, max_length=2000)

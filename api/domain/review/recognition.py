"""Recognition: a decision becomes the household's status from its date on."""

import uuid
from datetime import date

from api.domain.audit.service import log_partner_reads
from api.domain.base import new_id
from api.domain.changes.models import Operation
from api.domain.errors import FieldProblem, ValidationFailed
from api.domain.kernel.entities import EntityType
from api.domain.review import status as book
from api.domain.review.assess import flags
from api.domain.review.base import ReviewBase
from api.domain.review.models import Answers, Assessment, StatusAsOf, StatusPublic, StatusRecord


class RecognitionOps(ReviewBase):
    async def _recognise(self, row: Assessment, decided_on: date, number: str) -> None:
        """The decision becomes the household's status from its date on."""
        household = await self.households.load(row.household_id, for_update=True)
        assert row.status is not None
        rows = await book.history(self.session, household.id)
        if rows and rows[-1].effective_from > decided_on:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "decision.decided_on",
                        f"the household already has a status from {rows[-1].effective_from}",
                        "out_of_order",
                    )
                ]
            )
        previous, move = book.next_period(rows, row.status, decided_on)
        members = await self._members(household.id)
        head = next((m for m in members if m.id == household.head_member_id), None)
        answers = Answers.model_validate(row.answers)
        if previous is not None:
            if previous.effective_from == decided_on:
                raise ValidationFailed(
                    [
                        FieldProblem(
                            "decision.decided_on",
                            "a status already starts that day",
                            "out_of_order",
                        )
                    ]
                )
            previous.effective_to = decided_on
        record = StatusRecord(
            id=new_id(),
            household_id=household.id,
            unit_path=household.unit_path,
            status=row.status,
            previous_status=None if previous is None else previous.status,
            movement=move,
            effective_from=decided_on,
            assessment_id=row.id,
            standard_code=row.standard_code,
            decision_number=number,
            flags=[f.value for f in flags(head, members, answers)],
            causes=[c.value for c in answers.causes],
            deprived=[r["code"] for r in row.indicators if r.get("deprived")],
        )
        self.session.add(record)
        self.uow.record(
            EntityType.HOUSEHOLD_STATUS,
            record.id,
            Operation.CREATE,
            1,
            household.unit_path,
            {"status": [None, row.status.value], "movement": [None, move.value]},
        )
        self.households.set_status(household, row.status)
        for listener in self.on_recognised:
            await listener(household, answers, decided_on)

    # Status --------------------------------------------------------------------------------

    async def status_history(self, household_id: uuid.UUID) -> list[StatusPublic]:
        await self._status_read(household_id)
        rows = await book.history(self.session, household_id)
        return [book.to_public(r, self.principal) for r in rows]

    async def status_as_of(self, household_id: uuid.UUID, day: date | None = None) -> StatusAsOf:
        await self._status_read(household_id)
        rows = await book.history(self.session, household_id)
        return book.as_of(
            household_id, rows, day or date.today(), self.newly_escaped_years, self.principal
        )

    async def _status_read(self, household_id: uuid.UUID) -> None:
        """A status is read like the household: in the area, and by a partner with a
        purpose, logged."""
        self.households.reading()
        household = await self.households.load(household_id)
        await log_partner_reads(
            self.uow, EntityType.HOUSEHOLD_STATUS, [(str(household.id), household.unit_path)]
        )

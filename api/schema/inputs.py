"""GraphQL inputs. Validation stays with the pydantic shapes they convert into."""

import json
from typing import Any, TypeVar

import strawberry
from pydantic import BaseModel, ValidationError
from strawberry.experimental import pydantic as spyd

from api.domain.errors import FieldProblem, ValidationFailed
from api.domain.households.member_models import HeadChange, MemberCreate, MemberLeave, MemberUpdate
from api.domain.households.models import HouseholdCreate, HouseholdFilter, HouseholdUpdate
from api.domain.plans.models import PlanUpdate, TargetUpdate
from api.domain.uow import RequestKey
from api.schema.errors import graphql_path

M = TypeVar("M", bound=BaseModel)


@spyd.input(model=HouseholdCreate, all_fields=True)
class HouseholdInput:
    pass


@spyd.input(model=MemberCreate, all_fields=True)
class MemberInput:
    pass


@spyd.input(model=MemberLeave, all_fields=True)
class MemberLeaveInput:
    pass


@spyd.input(model=HeadChange, all_fields=True)
class HeadChangeInput:
    pass


@spyd.input(model=HouseholdFilter, all_fields=True)
class HouseholdFilterInput:
    pass


def patch_input(model: type[BaseModel], name: str) -> Any:
    """An input whose every field may be left out: only the fields sent are changed."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    for field_name, info in model.model_fields.items():
        annotations[field_name] = info.annotation
        namespace[field_name] = strawberry.field(
            default=strawberry.UNSET, description=info.description
        )
    return strawberry.input(
        type(name, (), namespace), description=f"Fields to change; {model.__name__} validates them"
    )


HouseholdPatch = patch_input(HouseholdUpdate, "HouseholdPatch")
MemberPatch = patch_input(MemberUpdate, "MemberPatch")
PlanPatch = patch_input(PlanUpdate, "PlanPatch")
PlanTargetPatch = patch_input(TargetUpdate, "PlanTargetPatch")


def to_model(model: type[M], value: object, argument: str = "input") -> M:
    """Validate a GraphQL input with the same shape REST uses (unsent fields stay unset);
    problems are named as the client wrote them, e.g. `input.floorAreaM2`."""
    data = {k: v for k, v in vars(value).items() if v is not strawberry.UNSET}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                FieldProblem(
                    graphql_path(argument, err["loc"]), err["msg"], err["type"], location="argument"
                )
                for err in exc.errors()
            ]
        ) from exc


def request_key(key: str | None, operation: str, payload: BaseModel) -> RequestKey | None:
    if key is None:
        return None
    body = json.dumps(payload.model_dump(mode="json"), sort_keys=True)
    return RequestKey.checked(
        key,
        f"{operation}\n{body}".encode(),
        FieldProblem("idempotencyKey", "", location="argument"),
    )

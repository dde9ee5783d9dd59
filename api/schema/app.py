import contextlib
import json
from collections.abc import Iterator
from typing import Annotated, Any

import strawberry
from cross_web import HTTPException as StrawberryHTTPException
from fastapi import Depends
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from starlette.exceptions import HTTPException
from strawberry.extensions import (
    AddValidationRules,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.fastapi import GraphQLRouter
from strawberry.types import ExecutionContext
from strawberry.types.unset import UNSET

from api.deps import SessionDep, SettingsDep, get_optional_principal, make_services
from api.domain.access import Principal
from api.domain.base import UnfitInput, cleaned
from api.domain.errors import FieldProblem, ValidationFailed
from api.schema.context import Context
from api.schema.errors import ErrorCodes
from api.schema.limits import ParseLimits, QueryLimits
from api.schema.mutations import Mutation
from api.schema.queries import Query
from api.schema.scalars import SCALAR_OVERRIDES


class TolerantParserCache(ParserCache):
    """ParserCache raises a syntax error from inside its hook, before ErrorCodes can tag it;
    letting it pass makes Strawberry parse again and report it the ordinary way."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


class IntrospectionNeedsToken(SchemaExtension):
    """The schema is described only to signed-in callers (the IDE sends the token too)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        signed_in = isinstance(context.context, Context) and context.context.signed_in
        if (
            document is not None
            and not signed_in
            and any(
                isinstance(d, OperationDefinitionNode) and _introspects(d)
                for d in document.definitions
            )
        ):
            context.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "send a bearer token to read the schema (see POST /api/v1/auth/token)",
                        extensions={"code": "unauthorized"},
                    )
                ],
            )
        yield


def _introspects(operation: OperationDefinitionNode) -> bool:
    return any(
        isinstance(s, FieldNode) and s.name.value in ("__schema", "__type")
        for s in operation.selection_set.selections
    )


class RegistrySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Client errors are answers, not incidents; ErrorCodes logs the unexpected ones."""


schema = RegistrySchema(
    query=Query,
    mutation=Mutation,
    scalar_overrides=SCALAR_OVERRIDES,
    extensions=[
        ErrorCodes,
        ParseLimits,
        lambda: TolerantParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: AddValidationRules([QueryLimits]),
        IntrospectionNeedsToken,
    ],
)


async def get_context(
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Context:
    return Context(None if principal is None else make_services(session, principal, settings))


class RegistryGraphQLRouter(GraphQLRouter[Context, None]):
    """Refusals at the HTTP level (a body that is not JSON, a wrong method) leave as
    problem+json, like every other error of the service."""

    def decode_json(self, data: str | bytes) -> object:
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):
            raise ValidationFailed(
                [FieldProblem("json", "not JSON, or nested too deeply", "json_invalid")]
            ) from None
        # Arguments that are not inputs (a search, a cursor) reach the database without a
        # pydantic shape: what no column can hold is refused here, for every argument.
        try:
            return cleaned(body)
        except UnfitInput as exc:
            where = ".".join(str(p) for p in exc.unfit.path)
            raise ValidationFailed(
                [FieldProblem(where, exc.unfit.message, exc.unfit.code)]
            ) from None

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except StrawberryHTTPException as exc:
            raise HTTPException(exc.status_code, exc.reason) from exc


def graphql_router(ide: bool) -> GraphQLRouter[Context, None]:
    return RegistryGraphQLRouter(
        schema, context_getter=get_context, graphql_ide="graphiql" if ide else None
    )

import contextlib
from collections.abc import Iterator
from typing import Annotated

import strawberry
from fastapi import Depends
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.fastapi import GraphQLRouter
from strawberry.types import ExecutionContext

from api.deps import SessionDep, SettingsDep, get_optional_principal, make_services
from api.domain.access import Principal
from api.schema.context import Context
from api.schema.errors import ErrorCodes
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
        lambda: TolerantParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ],
)


async def get_context(
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Context:
    return Context(None if principal is None else make_services(session, principal, settings))


def graphql_router(ide: bool) -> GraphQLRouter[Context, None]:
    return GraphQLRouter(
        schema, context_getter=get_context, graphql_ide="graphiql" if ide else None
    )

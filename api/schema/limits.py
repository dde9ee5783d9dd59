"""How much one GraphQL request may ask for: its size, depth, aliases and estimated cost,
refused before anything runs, each with a code of its own.

The cost is an upper estimate of the objects a query can return: every field counts 1, a
field with `first` multiplies what it selects by the page it asks for (the list just below
it, a connection's `edges`, is that page), and any other list by `LIST_GUESS`. Introspection
is bounded by the schema itself, except that `__Type.fields → type → fields → …` cycles
grow without end: there, lists may nest only as deep as GraphiQL's own query does.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLObjectType
from graphql.type.introspection import (
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
)
from strawberry.extensions import SchemaExtension

MAX_SOURCE_CHARS = 100_000
MAX_TOKENS = 5_000
MAX_DEPTH = 8
MAX_ALIASES = 30
MAX_COST = 30_000
PAGE_MAX = 200
LIST_GUESS = 10
INTROSPECTION_LIST_NESTING = 3
PAGE_ARGUMENTS = ("first", "limit")
_META_FIELDS = {
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
    "__typename": TypeNameMetaFieldDef,
}


class ParseLimits(SchemaExtension):
    """The parser stops at these bounds, before a huge document costs CPU or memory."""

    def on_operation(self) -> Iterator[None]:
        # Strawberry types only `max_tokens` but hands every option to graphql-core's parser.
        options = cast(dict[str, Any], self.execution_context.parse_options)
        options.update(
            max_source_length=MAX_SOURCE_CHARS,
            max_lexical_tokens=MAX_TOKENS,
            max_comments=MAX_TOKENS,
        )
        yield


def is_parse_limit(error: GraphQLError) -> bool:
    """graphql-core's parser names its own limits only in the message."""
    return error.message.endswith("Parsing aborted.")


@dataclass
class _Walk:
    cost: int = 0
    depth: int = 0
    aliases: int = 0
    too_nested: str | None = None


class QueryLimits(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        root = self.context.schema.get_root_type(node.operation)
        if root is None:
            return
        defaults = {
            v.variable.name.value: v.default_value.value
            for v in node.variable_definitions or ()
            if isinstance(v.default_value, IntValueNode)
        }
        walk = _Walk()
        self._selections(node.selection_set, root, walk, defaults, 1, False, 0, frozenset())
        self._check(node, "query_too_deep", "levels deep", walk.depth, MAX_DEPTH)
        self._check(node, "too_many_aliases", "aliases", walk.aliases, MAX_ALIASES)
        self._check(node, "query_too_costly", "estimated objects", walk.cost, MAX_COST)
        if walk.too_nested is not None:
            self.report_error(
                GraphQLError(
                    f"introspection lists nest deeper than {INTROSPECTION_LIST_NESTING} "
                    f"(at {walk.too_nested})",
                    node,
                    extensions={"code": "query_too_deep", "limit": INTROSPECTION_LIST_NESTING},
                )
            )

    def _check(
        self, node: OperationDefinitionNode, code: str, what: str, found: int, limit: int
    ) -> None:
        if found > limit:
            self.report_error(
                GraphQLError(
                    f"the query asks for {found} {what}; at most {limit} are allowed",
                    node,
                    extensions={"code": code, "limit": limit, "found": found},
                )
            )

    def _selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType,
        walk: _Walk,
        defaults: dict[str, str],
        depth: int,
        paged: bool,
        introspection_lists: int,
        fragments: frozenset[str],
    ) -> int:
        """The cost of one selection set; stops counting once the budget is spent, so that
        fragments spread exponentially cannot make the check itself expensive."""
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if walk.cost > MAX_COST:
                break
            if isinstance(selection, FieldNode):
                total += self._field(
                    selection, parent, walk, defaults, depth, paged, introspection_lists, fragments
                )
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.context.schema.get_type(condition.name.value) if condition else None
                total += self._selections(
                    selection.selection_set,
                    target or parent,
                    walk,
                    defaults,
                    depth,
                    paged,
                    introspection_lists,
                    fragments,
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in fragments:
                    continue  # unknown or cyclic: the standard rules report it
                target = self.context.schema.get_type(fragment.type_condition.name.value)
                total += self._selections(
                    fragment.selection_set,
                    target or parent,
                    walk,
                    defaults,
                    depth,
                    paged,
                    introspection_lists,
                    fragments | {name},
                )
        return total

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType,
        walk: _Walk,
        defaults: dict[str, str],
        depth: int,
        paged: bool,
        introspection_lists: int,
        fragments: frozenset[str],
    ) -> int:
        if node.alias is not None:
            walk.aliases += 1
        name = node.name.value
        definition = _field_definition(parent, name)
        if definition is None:
            walk.cost += 1
            return 1  # a field the standard rules will refuse
        introspection = name.startswith("__") or introspection_lists > 0
        listed = is_list_type(get_nullable_type(definition.type))
        page = _page_size(node, definition, defaults)
        if introspection:
            multiplier = 1
            introspection_lists += 1 if listed or name.startswith("__") else 0
            if introspection_lists > INTROSPECTION_LIST_NESTING + 1:
                walk.too_nested = walk.too_nested or name
        else:
            walk.depth = max(walk.depth, depth)
            multiplier = page if page is not None else (1 if paged or not listed else LIST_GUESS)
        walk.cost += 1
        below = self._selections(
            node.selection_set,
            get_named_type(definition.type),
            walk,
            defaults,
            depth + 1,
            page is not None and not listed,
            introspection_lists,
            fragments,
        )
        extra = (multiplier - 1) * below
        walk.cost += extra
        return 1 + below + extra


def _field_definition(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if name in _META_FIELDS:
        return _META_FIELDS[name]
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _page_size(node: FieldNode, definition: GraphQLField, defaults: dict[str, str]) -> int | None:
    """The page a field asks for: a literal, a variable's default, or the largest page."""
    for argument in PAGE_ARGUMENTS:
        if argument not in definition.args:
            continue
        given = next((a.value for a in node.arguments or () if a.name.value == argument), None)
        if isinstance(given, IntValueNode):
            return max(1, min(int(given.value), PAGE_MAX * 5))
        if isinstance(given, VariableNode):
            default = defaults.get(given.name.value)
            return max(1, min(int(default), PAGE_MAX * 5)) if default else PAGE_MAX
        declared = definition.args[argument].default_value
        return declared if isinstance(declared, int) and declared > 0 else PAGE_MAX
    return None

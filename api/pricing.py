"""What an operation costs, priced before it runs from its document, the schema and the
variables actually sent.

The rules (a point is roughly 40 µs of server work; the wallet screen below is ~108):

- every object costs 1, and every item of a list of objects counts; scalars and enums
  cost 0, except fields that render an image: `Redemption.voucherQrSvg` and
  `MemberCard.qrSvg` cost 100 each (one QR code as SVG is ~3-4 ms of CPU, as much as a
  whole wallet screen);
- a connection's `edges` (and `nodes`, the same items without cursors) count `first`
  times: the value the resolver will see, so variables, their defaults and coerced
  values all count (`first: $n` with `$n: Int = 100` is 100), 20 when not given, at
  most 100; `pageInfo` counts once;
- lists without `first` count their cap in the code: `usableVouchers` 50,
  `affordableRewards` 20, `partnerRewardStats` 100, `expiring` 12,
  `categoryMultipliers` 100, tiers 20, an earn breakdown's `lines` 201, a payload's
  `errors` 1 (`LIST_BOUNDS`; a test fails when a list of objects has no entry);
- each mutation costs 10 on top of its payload; `__schema` and `__type` cost 100 whole.

So the wallet screen (`me`, tier, tier progress, wallet and `history(first: 50)` with
`pageInfo`) costs 108, `history(first: 100)` alone 202, and `usableVouchers { voucherQrSvg }`
5,050, above the 2,000 any one operation may cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast

from api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from api.partner_queries import REWARD_STATS_SHOWN
from api.types.wallet import EXPIRING_SHOWN
from domain.actions import MAX_LIVE_ACTIONS
from domain.earning import MAX_LINES
from domain.leaderboard import MAX_BOARD_SIZE
from domain.referrals import MAX_MILESTONES
from domain.services.challenge_admin import MAX_TIERS
from domain.services.challenges import BADGES_SHOWN, CHALLENGES_SHOWN

OBJECT_COST = 1
MUTATION_COST = 10
INTROSPECTION_COST = 100
QR_SVG_COST = 100

# Scalar fields that do real work per value.
FIELD_WEIGHTS: Mapping[tuple[str, str], int] = {
    ("Redemption", "voucherQrSvg"): QR_SVG_COST,
    ("MemberCard", "qrSvg"): QR_SVG_COST,
}

# Most tiers any program has is what the tier lists cost: nothing caps them in the code.
TIERS_PRICED = 20

# Lists of objects without `first`: the most items their resolver returns.
LIST_BOUNDS: Mapping[tuple[str, str], int] = {
    ("Member", "usableVouchers"): 50,  # api/types/member.py: limit=50
    ("Member", "affordableRewards"): 20,  # domain/services/catalog.py affordable_for
    ("Query", "partnerRewardStats"): REWARD_STATS_SHOWN,
    ("Wallet", "expiring"): EXPIRING_SHOWN,
    ("EarnRules", "categoryMultipliers"): 100,  # domain validate_earn_rules keeps 100
    ("Program", "tiers"): TIERS_PRICED,
    ("Member", "paidTierOffers"): TIERS_PRICED,
    ("RetireTierPayload", "tiers"): TIERS_PRICED,
    # domain/earning.py validate_lines keeps MAX_LINES, plus the part no line covers
    ("EarnBreakdown", "lines"): MAX_LINES + 1,
    ("Member", "challenges"): CHALLENGES_SHOWN,
    ("Member", "badges"): BADGES_SHOWN,
    ("Challenge", "tiers"): MAX_TIERS,
    ("Query", "badges"): BADGES_SHOWN,
    ("Member", "actions"): MAX_LIVE_ACTIONS,  # domain/actions.py: live actions per program
    ("ReferralProgram", "milestones"): MAX_MILESTONES,  # domain/referrals.py validate_settings
    ("Leaderboard", "entries"): MAX_BOARD_SIZE,  # domain/leaderboard.py board_size
}
PAYLOAD_ERRORS = 1
# A connection's lists of the page: `nodes` holds the same items as `edges { node }`.
PAGE_LISTS = frozenset({"edges", "nodes"})  # `attempt` turns one domain error into one UserError

_Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of the chosen operation of a validated document with these variables."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {}), max_errors=1
    )
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    pricer = _Pricer(
        schema,
        fragments,
        None if isinstance(coerced, list) else coerced,  # invalid ones are refused anyway
        mutation=operation.operation is OperationType.MUTATION,
    )
    return pricer.selections(root, operation.selection_set, 0, frozenset())


def is_operation_of(document: DocumentNode, name: str | None, kind: OperationType) -> bool:
    """Whether the operation `name` selects is a `kind` (query, mutation...)."""
    operation: OperationDefinitionNode | None = get_operation_ast(document, name)
    return operation is not None and operation.operation is kind


class _Pricer:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues | None,
        *,
        mutation: bool,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.mutation_type = schema.mutation_type if mutation else None

    def selections(
        self,
        parent: _Composite,
        selection_set: SelectionSetNode | None,
        page: int,
        seen: frozenset[str],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, page, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                total += self.selections(
                    self._type(condition.name.value, parent) if condition else parent,
                    selection.selection_set,
                    page,
                    seen,
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:  # cycles are invalid anyway
                    total += self.selections(
                        self._type(fragment.type_condition.name.value, parent),
                        fragment.selection_set,
                        page,
                        seen | {name},
                    )
        return total

    def field(self, parent: _Composite, node: FieldNode, page: int, seen: frozenset[str]) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        if name in ("__schema", "__type"):
            return INTROSPECTION_COST
        definition = getattr(parent, "fields", {}).get(name)
        if definition is None:  # validation refused the document already
            return 0
        weight = FIELD_WEIGHTS.get((parent.name, name), 0)
        named = get_named_type(definition.type)
        if is_leaf_type(named) or not isinstance(named, _Composite):
            return weight
        own = OBJECT_COST + weight
        if parent is self.mutation_type:
            own += MUTATION_COST
        inner_page = self._page_size(definition, node) if "first" in definition.args else 0
        children = self.selections(named, node.selection_set, inner_page, seen)
        if _is_list(definition.type):
            return self._count(parent, name, named, page) * (own + children)
        return own + children

    def _count(self, parent: _Composite, name: str, item: GraphQLType, page: int) -> int:
        if name in PAGE_LISTS and parent.name.endswith("Connection"):
            return page
        if name == "errors" and getattr(item, "name", None) == "UserError":
            return PAYLOAD_ERRORS
        return LIST_BOUNDS.get((parent.name, name), MAX_PAGE_SIZE)

    def _page_size(self, definition: GraphQLField, node: FieldNode) -> int:
        try:
            first = get_argument_values(definition, node, self.variables).get("first")
        except GraphQLError:  # a missing or invalid value: execution refuses it
            return DEFAULT_PAGE_SIZE
        if first is None:
            return DEFAULT_PAGE_SIZE
        return max(0, min(int(first), MAX_PAGE_SIZE))

    def _type(self, name: str, fallback: _Composite) -> _Composite:
        found = self.schema.get_type(name)
        return found if isinstance(found, _Composite) else fallback


def _is_list(graphql_type: GraphQLType) -> bool:
    while isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return isinstance(graphql_type, GraphQLList)

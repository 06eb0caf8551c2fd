"""The GraphQL schema: root types, extensions and limits. `loyalty schema` prints it."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.errors import LoyaltyErrors, log_refusals
from api.executor import LoyaltyExecutor
from api.limits import CostBudget, CostLimiter, ValidationMemo
from api.mutations.instore import InStoreMutations
from api.mutations.members import MemberMutations
from api.mutations.points import PointsMutations
from api.mutations.programs import ProgramMutations, TierMutations
from api.mutations.purchases import PurchaseMutations
from api.mutations.rewards import RewardMutations
from api.observability import current_request_id
from api.partners import PartnerMutations
from api.queries import Query
from api.subscriptions import Subscription
from api.types.member import Member
from api.types.program import Money, Program, Tier
from api.types.wallet import LedgerEntry

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 4000


@strawberry.type(
    description="Changing state. Every mutation takes one `input` and returns a payload."
)
class Mutation(
    MemberMutations,
    PointsMutations,
    PurchaseMutations,
    ProgramMutations,
    RewardMutations,
    InStoreMutations,
    PartnerMutations,
    TierMutations,
):
    pass


class LoyaltySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Strawberry logs every error at ERROR with its traceback, so a flood of refused
        subscriptions (a bad token, a forbidden field) wrote 1,024 error lines: refusals
        are logged at INFO, unexpected errors by `LoyaltyErrors` at ERROR."""
        log_refusals(errors)


def build_schema(*, production: bool = False, budget: CostBudget | None = None) -> LoyaltySchema:
    """The schema with its limits; `budget` is the per-caller cost budget of one app."""
    costs = budget or CostBudget()
    memo = ValidationMemo()
    # The limiters' validation rules, built once: their constructors define a rule class
    # per call, and extensions are instantiated per request.
    rules = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    extensions = [
        lambda: ParserCache(maxsize=1024),
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: CostLimiter(costs, memo),
        lambda: LoyaltyErrors(request_id=current_request_id),
    ]
    if production:
        from strawberry.extensions import DisableIntrospection

        extensions.append(DisableIntrospection)
    return LoyaltySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        types=[Money, Program, Tier, Member, LedgerEntry],
        config=StrawberryConfig(disable_field_suggestions=production),
        execution_context_class=LoyaltyExecutor,
    )


schema = build_schema()

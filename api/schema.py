"""The GraphQL schema: root types, extensions and limits. `loyalty schema` prints it."""

from __future__ import annotations

import time
from collections.abc import Callable

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig

from api.documents import CachedParser, DocumentCache
from api.errors import LoyaltyErrors
from api.executor import LoyaltyExecutor
from api.limits import QUERY_CPU_SECONDS, CostBudget, CostLimiter
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


def build_schema(
    *,
    production: bool = False,
    budget: CostBudget | None = None,
    cpu_seconds: float = QUERY_CPU_SECONDS,
    cpu_clock: Callable[[], float] = time.perf_counter,
    documents: DocumentCache | None = None,
) -> strawberry.Schema:
    """The schema with its limits; `budget` is the per-caller cost budget of one app,
    `cpu_seconds` the CPU one query may use (see api.limits), `documents` its cache of
    parsed queries."""
    costs = budget or CostBudget()
    cache = documents if documents is not None else DocumentCache()
    # The limiters' validation rules, built once: their constructors define a rule class
    # per call, and extensions are instantiated per request.
    rules = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    extensions = [
        lambda: CachedParser(cache),
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: CostLimiter(costs, cache, cpu_seconds, cpu_clock),
        lambda: LoyaltyErrors(request_id=current_request_id),
    ]
    if production:
        from strawberry.extensions import DisableIntrospection

        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        types=[Money, Program, Tier, Member, LedgerEntry],
        config=StrawberryConfig(disable_field_suggestions=production),
        execution_context_class=LoyaltyExecutor,
    )


schema = build_schema()

"""The GraphQL schema: root types, extensions and limits. `loyalty schema` prints it."""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Callable

import strawberry
from graphql import specified_rules
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

from api.documents import DocumentCache
from api.errors import LoyaltyErrors, LoyaltySchema
from api.executor import LoyaltyExecutor
from api.input_text import guard_mutations
from api.limits import QUERY_CPU_SECONDS, CostBudget, CostLimiter
from api.metrics import Metrics, OperationMetrics
from api.mutations.actions import ActionMutations
from api.mutations.campaigns import CampaignMutations
from api.mutations.challenges import ChallengeMutations
from api.mutations.instore import InStoreMutations
from api.mutations.leaderboard import LeaderboardMutations
from api.mutations.members import MemberMutations
from api.mutations.partners import PartnerMutations
from api.mutations.payments import PaymentMutations
from api.mutations.points import PointsMutations
from api.mutations.programs import ProgramMutations, TierMutations
from api.mutations.purchases import PurchaseMutations
from api.mutations.referrals import ReferralMutations
from api.mutations.rewards import RewardMutations
from api.mutations.vouchers import VoucherMutations
from api.observability import current_request_id
from api.persisted import DocumentParser, TrustedDocuments
from api.queries import Query
from api.settings import Settings
from api.subscriptions import Subscription
from api.types.member import Member
from api.types.program import Money, Program, Tier
from api.types.wallet import LedgerEntry

# The built-in Date and DateTime, with descriptions that say what to send.
SCALARS: dict[object, ScalarDefinition] = {
    datetime.date: dataclasses.replace(
        DateDefinition,
        description="A calendar date in ISO 8601, YYYY-MM-DD, e.g. 1990-04-23.",
    ),
    datetime.datetime: dataclasses.replace(
        DateTimeDefinition,
        description="An instant in ISO 8601 with its UTC offset, e.g. "
        "2026-11-27T09:00:00+00:00; we answer in UTC, and times without an offset are "
        "INVALID_INPUT.",
    ),
}

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
    VoucherMutations,
    PaymentMutations,
    InStoreMutations,
    PartnerMutations,
    TierMutations,
    CampaignMutations,
    ChallengeMutations,
    ActionMutations,
    ReferralMutations,
    LeaderboardMutations,
):
    pass


guard_mutations(Mutation)


def extra_rules(production: bool) -> list[type[ASTValidationRule]]:
    """Our validation rules beyond GraphQL's own: depth, aliases, and introspection off in
    production. Built once per schema: the limiters' constructors define a rule class per
    call, and extensions are instantiated per request."""
    rules = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    if production:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def build_schema(
    *,
    production: bool = False,
    budget: CostBudget | None = None,
    trusted: TrustedDocuments | None = None,
    metrics: Metrics | None = None,
    cpu_seconds: float = QUERY_CPU_SECONDS,
    cpu_clock: Callable[[], float] = time.perf_counter,
    documents: DocumentCache | None = None,
    tracer_provider: object | None = None,
) -> strawberry.Schema:
    """The schema with its limits; `budget` is the per-caller cost budget of one app;
    `trusted` documents (see `load_trusted_documents`) skip parsing and validation;
    `cpu_seconds` is the CPU one query may use (see api.limits), `documents` the cache of
    parsed and validated queries."""
    costs = budget or CostBudget()
    rules = extra_rules(production)
    cache = documents if documents is not None else DocumentCache()
    known = trusted.parsed if trusted is not None else None
    extensions = [
        lambda: DocumentParser(trusted, cache),
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: CostLimiter(costs, cache, cpu_seconds, cpu_clock, known),
        lambda: LoyaltyErrors(request_id=current_request_id),
    ]
    if metrics is not None:
        extensions.insert(0, lambda: OperationMetrics(metrics))
    if tracer_provider is not None:
        from api import tracing

        extensions.insert(0, tracing.extension(tracer_provider))
    return LoyaltySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        types=[Money, Program, Tier, Member, LedgerEntry],
        config=StrawberryConfig(disable_field_suggestions=production),
        scalar_overrides=SCALARS,
        execution_context_class=LoyaltyExecutor,
    )


schema = build_schema()


def load_trusted_documents(settings: Settings) -> TrustedDocuments | None:
    """The configured trusted documents, parsed and validated with the rules requests get;
    raises TrustedDocumentsError (one line) when one is not valid."""
    if settings.trusted_documents is None:
        return None
    rules = (*specified_rules, *extra_rules(settings.production))
    return TrustedDocuments.load(settings.trusted_documents, schema._schema, rules)

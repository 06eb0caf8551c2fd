"""Live updates over WebSocket (graphql-transport-ws): pushed only after commit.

The resolvers run once, when a client subscribes: they check who may subscribe, work out
the bus topic (the member's wallet, the partner's redemptions) and answer
`context.listen(topic, value)`. The WebSocket endpoint (api/ws.py) then delivers the
topic's events: for each one it builds a fresh context, turns the event into the field's
value with `value` and runs the client's selection on it, once for all equal
subscriptions. A subscription ends when the caller's token expires, or when the client
falls so far behind that its queue overflowed (it then resubscribes and refetches).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from enum import Enum

import strawberry

from api.context import Context, Info, no_events
from api.permissions import MemberOnly, PartnerOnly
from api.types.program import Tier
from api.types.rewards import Redemption
from api.types.wallet import LedgerEntry
from domain.errors import NotEnrolled
from domain.events import (
    Event,
    RedemptionChanged,
    TierChanged,
    TierChangeReason,
    WalletChanged,
    member_redemptions_topic,
    partner_redemptions_topic,
    tier_topic,
    wallet_topic,
)
from domain.tiers import current_tier


@strawberry.type(description="One committed change of the caller's wallet.")
class WalletEvent:
    delta: int = strawberry.field(description="Signed change that caused this event.")
    balance: int = strawberry.field(description="Spendable balance after the change.")
    pending: int = strawberry.field(description="Pending points after the change.")
    version: int = strawberry.field(
        description="Increases by one with every change of this wallet: a gap means missed "
        "events, so refetch the wallet."
    )
    change: strawberry.Private[WalletChanged]

    @strawberry.field(description="The ledger entry of the change.")
    async def entry(self, info: Info) -> LedgerEntry | None:
        if self.change.entry_id is None:
            return None
        found = await (await info.context.loaders()).entries.load(self.change.entry_id)
        return LedgerEntry.from_domain(found) if found else None

    @strawberry.field(description="The member's tier after the change.")
    async def tier(self, info: Info) -> Tier:
        context = info.context
        tiers = await context.tiers()
        async with context.reader() as uow:
            member = await uow.members.get(self.change.program_id, self.change.member_id)
        if member is None:  # members are never deleted
            return Tier.from_domain(tiers[0])
        return Tier.from_domain(current_tier(tiers, member))


async def _wallet_event(_: Context, event: Event) -> WalletEvent | None:
    if not isinstance(event, WalletChanged):
        return None
    return WalletEvent(
        delta=event.delta,
        balance=event.balance,
        pending=event.pending,
        version=event.version,
        change=event,
    )


@strawberry.enum(name="TierChangeReason", description="Why a member's tier changed.")
class TierChangeCause(Enum):
    UPGRADE = strawberry.enum_value(
        TierChangeReason.UPGRADE.value, description="Qualifying points reached a higher tier."
    )
    EVALUATION = strawberry.enum_value(
        TierChangeReason.EVALUATION.value,
        description="A qualifying period ended and was evaluated.",
    )
    REFUND = strawberry.enum_value(
        TierChangeReason.REFUND.value,
        description="A refund took back the points that had reached the tier.",
    )
    PAID = strawberry.enum_value(
        TierChangeReason.PAID.value, description="The member bought the tier for a year."
    )


@strawberry.type(description="A member moved to another tier, up or down.")
class TierEvent:
    tier: Tier = strawberry.field(description="The tier the member holds now.")
    previous_tier: Tier | None = strawberry.field(
        description="The tier held before; null if it has been retired since."
    )
    reason: TierChangeCause = strawberry.field(description="Why the tier changed.")
    at: datetime = strawberry.field(description="When the change was committed.")


async def _tier_event(context: Context, event: Event) -> TierEvent | None:
    """The event carries the tiers; the program's tiers (read once per event) name them."""
    if not isinstance(event, TierChanged):
        return None
    tiers = {tier.id: tier for tier in await context.tiers()}
    now = tiers.get(event.tier_id)
    if now is None:  # retired between the change and its delivery
        now = min(tiers.values(), key=lambda tier: tier.rank)
    before = tiers.get(event.previous_tier_id)
    return TierEvent(
        tier=Tier.from_domain(now),
        previous_tier=Tier.from_domain(before) if before else None,
        reason=TierChangeCause(event.reason.value),
        at=event.at,
    )


async def _redemption(context: Context, event: Event) -> Redemption | None:
    if not isinstance(event, RedemptionChanged):
        return None
    async with context.reader() as uow:
        redemption = await uow.rewards.redemption(event.program_id, event.redemption_id)
    return Redemption.from_domain(redemption) if redemption is not None else None


async def _enrolled_member_id(context: Context) -> uuid.UUID:
    program = await context.program()
    async with context.reader() as uow:
        member = await uow.members.get_by_subject(program.id, context.caller().subject)
    if member is None:
        raise NotEnrolled("Enroll first.")
    return member.id


@strawberry.type(description="Live updates. Connect with graphql-transport-ws and a bearer token.")
class Subscription:
    @strawberry.subscription(
        description="Members: every change of their own wallet, pushed after it is committed.",
        permission_classes=[MemberOnly],
    )
    async def wallet_changed(self, info: Info) -> AsyncIterator[WalletEvent]:
        member_id = await _enrolled_member_id(info.context)
        return info.context.listen(wallet_topic(member_id), _wallet_event)

    @strawberry.subscription(
        description="Members: their tier as it changes (an upgrade, a period's evaluation, a "
        "refund, a bought tier), pushed after commit without reading the member again.",
        permission_classes=[MemberOnly],
    )
    async def tier_changed(self, info: Info) -> AsyncIterator[TierEvent]:
        member_id = await _enrolled_member_id(info.context)
        return info.context.listen(tier_topic(member_id), _tier_event)

    @strawberry.subscription(
        description="Members: their redemptions as they change, e.g. a voucher turning USED "
        "at the till.",
        permission_classes=[MemberOnly],
    )
    async def redemption_updated(self, info: Info) -> AsyncIterator[Redemption]:
        member_id = await _enrolled_member_id(info.context)
        return info.context.listen(member_redemptions_topic(member_id), _redemption)

    @strawberry.subscription(
        description="Partners: redemptions of their co-branded rewards as they happen.",
        permission_classes=[PartnerOnly],
    )
    async def partner_redemptions(self, info: Info) -> AsyncIterator[Redemption]:
        partner_id = await (await info.context.loaders()).partner_id()
        if partner_id is None:
            return no_events()
        return info.context.listen(partner_redemptions_topic(partner_id), _redemption)

"""Live updates over WebSocket (graphql-transport-ws): pushed only after commit.

Each event is resolved with its own short read (never a session shared across events);
a subscription ends when the caller's token expires, or when the client falls so far
behind that its queue overflowed (it then resubscribes and refetches).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from api.context import Context, Info
from api.permissions import MemberOnly, PartnerOnly
from api.types.program import Tier
from api.types.rewards import Redemption
from api.types.wallet import LedgerEntry
from domain.errors import NotEnrolled
from domain.events import (
    Event,
    RedemptionChanged,
    WalletChanged,
    member_redemptions_topic,
    partner_redemptions_topic,
    wallet_topic,
)


@strawberry.type(description="One committed change of the caller's wallet.")
class WalletEvent:
    delta: int = strawberry.field(description="Signed change that caused this event.")
    balance: int = strawberry.field(description="Spendable balance after the change.")
    pending: int = strawberry.field(description="Pending points after the change.")
    version: int = strawberry.field(
        description="Increases by one with every change of this wallet: a gap means missed "
        "events, so refetch the wallet."
    )
    entry: LedgerEntry | None = strawberry.field(description="The ledger entry of the change.")
    tier: Tier = strawberry.field(description="The member's tier after the change.")


async def _events(context: Context, topic: str) -> AsyncGenerator[Event, None]:
    """The topic's events until the token expires or the client falls behind."""
    expires_at = context.caller().expires_at
    async with context.runtime.bus.subscribe(topic) as mailbox:
        if expires_at is not None:
            remaining = (expires_at - datetime.now(expires_at.tzinfo)).total_seconds()
            if remaining <= 0:
                return
            mailbox.close_after(remaining)
        while (event := await mailbox.get()) is not None:
            yield event


async def _enrolled_member_id(context: Context):  # type: ignore[no-untyped-def]
    program = await context.program()
    async with context.runtime.reader() as uow:
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
    async def wallet_changed(self, info: Info) -> AsyncGenerator[WalletEvent, None]:
        context = info.context
        member_id = await _enrolled_member_id(context)
        async for event in _events(context, wallet_topic(member_id)):
            if not isinstance(event, WalletChanged):
                continue
            async with context.runtime.reader() as uow:
                entries = await uow.ledger.entries(
                    event.program_id, [event.entry_id] if event.entry_id else []
                )
                member = await uow.members.get(event.program_id, event.member_id)
            tiers = await context.tiers()
            tier = next((t for t in tiers if member and t.id == member.tier_id), tiers[0])
            yield WalletEvent(
                delta=event.delta,
                balance=event.balance,
                pending=event.pending,
                version=event.version,
                entry=LedgerEntry.from_domain(entries[0]) if entries else None,
                tier=Tier.from_domain(tier),
            )

    @strawberry.subscription(
        description="Members: their redemptions as they change, e.g. a voucher turning USED "
        "at the till.",
        permission_classes=[MemberOnly],
    )
    async def redemption_updated(self, info: Info) -> AsyncGenerator[Redemption, None]:
        context = info.context
        member_id = await _enrolled_member_id(context)
        async for redemption in _redemptions(context, member_redemptions_topic(member_id)):
            yield redemption

    @strawberry.subscription(
        description="Partners: redemptions of their co-branded rewards as they happen.",
        permission_classes=[PartnerOnly],
    )
    async def partner_redemptions(self, info: Info) -> AsyncGenerator[Redemption, None]:
        context = info.context
        partner_id = await (await context.loaders()).partner_id()
        if partner_id is None:
            return
        async for redemption in _redemptions(context, partner_redemptions_topic(partner_id)):
            yield redemption


async def _redemptions(context: Context, topic: str) -> AsyncGenerator[Redemption, None]:
    async for event in _events(context, topic):
        if not isinstance(event, RedemptionChanged):
            continue
        async with context.runtime.reader() as uow:
            redemption = await uow.rewards.redemption(event.program_id, event.redemption_id)
        if redemption is not None:
            yield Redemption.from_domain(redemption)

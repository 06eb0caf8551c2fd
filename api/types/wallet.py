"""The points wallet and its history."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api import ids
from api.context import Info
from api.pagination import (
    After,
    Connection,
    Edge,
    First,
    connection,
    decode_cursor,
    encode_cursor,
    page_size,
)
from api.types.node import Node
from domain import access, model
from domain.errors import AccessDenied

EXPIRING_SHOWN = 12


@strawberry.enum(description="What caused a ledger entry.")
class LedgerEntryKind(Enum):
    EARN = strawberry.enum_value("EARN", description="Points earned by a purchase.")
    BONUS = strawberry.enum_value(
        "BONUS", description="Points from a bonus: signup, birthday, campaign, referral."
    )
    REDEEM = strawberry.enum_value("REDEEM", description="Points spent on a reward or an order.")
    EXPIRE = strawberry.enum_value("EXPIRE", description="Points that expired unused.")
    ADJUST = strawberry.enum_value(
        "ADJUST", description="A correction by the brand, with a reason."
    )
    REVERSAL = strawberry.enum_value(
        "REVERSAL", description="Points taken back because a purchase was refunded."
    )
    CHALLENGE = strawberry.enum_value("CHALLENGE", description="Points for completing a challenge.")
    ACTION = strawberry.enum_value(
        "ACTION",
        description="Points for an earning action: signup, birthday, review, follow, "
        "newsletter ...; the description names the action.",
    )
    REFERRAL = strawberry.enum_value(
        "REFERRAL",
        description="Points for a referral: a referee's welcome, a referrer's reward for a "
        "friend's first qualifying purchase, or a referral milestone.",
    )


@strawberry.type(description="One immutable change of a wallet.")
class LedgerEntry(Node):
    kind: LedgerEntryKind = strawberry.field(description="What caused the change.")
    points: int = strawberry.field(description="Signed: positive credits, negative debits.")
    balance_after: int = strawberry.field(description="Spendable balance right after this entry.")
    description: str = strawberry.field(description="Human-readable reason, e.g. 'Purchase 1042'.")
    occurred_at: datetime = strawberry.field(description="When the change was recorded.")

    @classmethod
    def from_domain(cls, entry: model.LedgerEntry) -> LedgerEntry:
        return cls(
            id=strawberry.ID(ids.encode("LedgerEntry", entry.id)),
            kind=LedgerEntryKind[entry.kind.value],
            points=entry.points,
            balance_after=entry.balance_after,
            description=entry.description,
            occurred_at=entry.occurred_at,
        )


@strawberry.type(description="Points that will expire at a given time unless spent first.")
class ExpiringPoints:
    points: int = strawberry.field(description="How many points expire then.")
    expires_at: datetime = strawberry.field(description="When they expire.")


@strawberry.type(description="A member's points: spendable, pending and their history.")
class Wallet:
    balance: int = strawberry.field(
        description="Spendable now. Negative only after a refund of points already spent."
    )
    pending: int = strawberry.field(description="Earned but not yet spendable (hold period).")
    lifetime_earned: int = strawberry.field(description="All points ever earned, before spending.")
    version: int = strawberry.field(
        description="Grows by one with every change; compare with live events to spot a gap."
    )
    wallet: strawberry.Private[model.Wallet]

    @classmethod
    def from_domain(cls, wallet: model.Wallet) -> Wallet:
        return cls(
            balance=wallet.balance,
            pending=wallet.pending,
            lifetime_earned=wallet.lifetime_earned,
            version=wallet.version,
            wallet=wallet,
        )

    @strawberry.field(description="Upcoming expirations, soonest first.")
    async def expiring(self, info: Info) -> list[ExpiringPoints]:
        runtime = info.context.runtime
        async with info.context.reader() as uow:
            rows = await uow.ledger.expiring(
                self.wallet.program_id, self.wallet.member_id, runtime.clock.now(), EXPIRING_SHOWN
            )
        return [ExpiringPoints(points=points, expires_at=at) for at, points in rows]

    @strawberry.field(
        description="Ledger entries, newest first. No `totalCount`: a member's history grows "
        "with every purchase for as long as they are a member, and counting it would read all "
        "of it on every screen; page with `pageInfo.hasNextPage` instead. The web shop, which "
        "sees a wallet only in the answer to its own order calls, gets FORBIDDEN."
    )
    async def history(
        self,
        info: Info,
        first: First = None,
        after: After = None,
    ) -> Connection[LedgerEntry]:
        if not access.can_read_wallet_history(info.context.caller()):
            raise AccessDenied("The web shop does not read a member's history.")
        size = page_size(first)
        position = decode_cursor(after, "v", int)
        before = position[0] if position else None
        async with info.context.reader() as uow:
            entries = await uow.ledger.history(
                self.wallet.program_id,
                self.wallet.member_id,
                limit=size + 1,
                before_version=before,
            )
        page = entries[:size]
        edges = [
            Edge(cursor=encode_cursor("v", e.version), node=LedgerEntry.from_domain(e))
            for e in page
        ]
        return connection(edges, len(entries) > size, after)

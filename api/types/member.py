"""Members and their tier progress."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from api import ids
from api.catalog_queries import redemptions_page
from api.context import Info
from api.pagination import After, First
from api.qr import qr_svg
from api.types.actions import EarnableAction
from api.types.challenges import EarnedBadge, MemberChallenge, member_badges, member_challenges
from api.types.instore import MemberCard
from api.types.node import Node
from api.types.program import Money, Tier
from api.types.referrals import (
    ReferralConnection,
    ReferralProgress,
    member_referrals,
    referral_link,
    referral_progress,
)
from api.types.rewards import Redemption, RedemptionConnection, RedemptionStatus, Reward
from api.types.wallet import Wallet
from domain import access, model, tiers
from domain.errors import AccessDenied
from domain.rewards import RedemptionStatus as DomainStatus
from domain.services import actions, catalog, instore


@strawberry.type(description="Where the member stands on the way to the next tier.")
class TierProgress:
    current: Tier = strawberry.field(description="The member's tier now.")
    next: Tier | None = strawberry.field(description="The tier above; null at the top tier.")
    qualifying_points: int = strawberry.field(
        description="Points earned (not spent) within the current qualifying period."
    )
    points_to_next: int | None = strawberry.field(
        description="Points still needed for the next tier; null at the top tier."
    )
    percent: float = strawberry.field(
        description="0..100 towards the next tier; 100 at the top tier."
    )
    period_ends_at: datetime | None = strawberry.field(
        description="When the current qualifying period ends; null for rolling periods."
    )
    points_to_keep: int = strawberry.field(
        description="Points still to earn in this period to keep the current tier."
    )
    kept_until: datetime | None = strawberry.field(
        description="The tier is kept at least until then; evaluated (maybe lowered) after."
    )


@strawberry.type(description="A tier the member can buy for a year, and what it costs them.")
class PaidTierOffer:
    tier: Tier = strawberry.field(description="The tier on offer.")
    fee: Money = strawberry.field(description="The yearly fee for this member now.")


@strawberry.type(description="A member of the program: identity, tier and wallet.")
class Member(Node):
    card_number: str = strawberry.field(
        description="Member card number (digits with a Luhn check digit)."
    )
    display_name: str | None = strawberry.field(description="Name to greet the member with.")
    joined_at: datetime = strawberry.field(description="When the member enrolled.")
    referral_code: str = strawberry.field(
        description="Personal code the member shares to refer friends."
    )
    blocked: bool = strawberry.field(
        description="Blocked members can neither earn, spend nor be scanned."
    )
    member: strawberry.Private[model.Member]

    @classmethod
    def from_domain(cls, member: model.Member) -> Member:
        return cls(
            id=strawberry.ID(ids.encode("Member", member.id)),
            card_number=member.card_number,
            display_name=member.display_name,
            joined_at=member.joined_at,
            referral_code=member.referral_code,
            blocked=member.blocked,
            member=member,
        )

    def _personal(self, info: Info) -> bool:
        return access.can_read_personal_data(info.context.caller(), self.member)

    @strawberry.field(description="Email address; only the member themself and admins see it.")
    def email(self, info: Info) -> str | None:
        return self.member.email if self._personal(info) else None

    @strawberry.field(description="Phone in E.164; only the member themself and admins see it.")
    def phone(self, info: Info) -> str | None:
        return self.member.phone if self._personal(info) else None

    @strawberry.field(description="Birthday; only the member themself and admins see it.")
    def birthday(self, info: Info) -> date | None:
        return self.member.birthday if self._personal(info) else None

    @strawberry.field(description="The member's current tier.")
    async def tier(self, info: Info) -> Tier:
        return Tier.from_domain(tiers.current_tier(await info.context.tiers(), self.member))

    @strawberry.field(description="Progress towards the next tier in the current period.")
    async def tier_progress(self, info: Info) -> TierProgress:
        all_tiers = await info.context.tiers()
        current = tiers.current_tier(await info.context.tiers(), self.member)
        program = await info.context.program()
        now = info.context.runtime.clock.now()
        _, end = tiers.qualifying_window(program.policy.qualifying, now, program.time_zone)
        loaders = await info.context.loaders()
        qualifying = await loaders.qualifying_points.load(self.member.id)
        result = tiers.progress(all_tiers, current, qualifying, end)
        return TierProgress(
            current=Tier.from_domain(result.current),
            next=Tier.from_domain(result.next) if result.next else None,
            qualifying_points=result.qualifying_points,
            points_to_next=result.points_to_next,
            percent=result.percent,
            period_ends_at=result.period_ends_at,
            points_to_keep=tiers.points_to_keep(current, qualifying),
            kept_until=self.member.tier_valid_until,
        )

    @strawberry.field(description="End of a bought VIP year; null if none was bought.")
    def paid_tier_until(self) -> datetime | None:
        return self.member.paid_tier_until

    @strawberry.field(description="Tiers this member can buy for a year, with their fee now.")
    async def paid_tier_offers(self, info: Info) -> list[PaidTierOffer]:
        loaders = await info.context.loaders()
        wallet = await loaders.wallets.load(self.member.id)
        balance = wallet.balance if wallet else 0
        currency = (await info.context.program()).currency
        offers = []
        for tier in await info.context.tiers():
            fee = tiers.paid_fee(tier, balance)
            if fee is not None:
                offers.append(
                    PaidTierOffer(
                        tier=Tier.from_domain(tier),
                        fee=Money(amount_minor=fee, currency=currency),
                    )
                )
        return offers

    @strawberry.field(description="The member's redemptions, newest first.")
    async def redemptions(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        status: Annotated[
            list[RedemptionStatus] | None,
            strawberry.argument(
                description=(
                    "Only redemptions in these statuses, as stored (EXPIRED is derived, so "
                    "ISSUED includes expired vouchers); left out: all."
                )
            ),
        ] = None,
    ) -> RedemptionConnection:
        return await redemptions_page(info, self.member.id, first, after, status)

    @strawberry.field(description="Unused, unexpired vouchers, newest first (at most 50).")
    async def usable_vouchers(self, info: Info) -> list[Redemption]:
        now = info.context.runtime.clock.now()
        async with info.context.reader() as uow:
            issued = await uow.rewards.member_redemptions(
                self.member.program_id,
                self.member.id,
                statuses=[DomainStatus.ISSUED],
                limit=50,
                before=None,
            )
        usable = [r for r in issued if r.status_at(now) is DomainStatus.ISSUED]
        return [Redemption.from_domain(r) for r in usable]

    @strawberry.field(
        description="Rewards the member can redeem right now with their balance, cheapest "
        "first (at most 20)."
    )
    async def affordable_rewards(self, info: Info) -> list[Reward]:
        now = info.context.runtime.clock.now()
        currency = (await info.context.program()).currency
        async with info.context.reader() as uow:
            rewards = await catalog.affordable_for(
                uow, self.member.program_id, self.member.subject, now
            )
        return [Reward.from_domain(r, currency, (None, True)) for r in rewards]

    @strawberry.field(
        description="Only the member themself may read their card; others get FORBIDDEN."
    )
    async def card(self, info: Info) -> MemberCard:
        runtime = info.context.runtime
        principal = info.context.caller()
        if not access.can_read_card(principal, self.member):
            raise AccessDenied("Only the member themself may see their card.")
        async with info.context.reader() as uow:
            view = await instore.member_card(
                uow, runtime.clock, principal, runtime.settings.card_key_bytes
            )
        return MemberCard(
            card_number=view.card_number,
            qr_payload=view.payload,
            qr_svg=qr_svg(view.payload),
            expires_at=view.expires_at,
        )

    @strawberry.field(
        description="Challenges open to the member now (at most 50), with their progress in "
        "the current period: those of their tier; hidden ones once started."
    )
    async def challenges(self, info: Info) -> list[MemberChallenge]:
        return await member_challenges(info, self.member)

    @strawberry.field(description="Badges the member earned, latest first (at most 200).")
    async def badges(self, info: Info) -> list[EarnedBadge]:
        return await member_badges(info, self.member)

    @strawberry.field(
        description="What the member can still earn besides purchases (the app's 'earn "
        "more' screen): each live earning action with its points or reward, who reports it, "
        "and what is left of its limits now. Actions whose lifetime limit is used up, and the "
        "signup bonus (paid on enrolling only), are left out; those waiting for a period to "
        "reset are listed with `canEarnNow` false. At most 100 (a program's live actions); "
        "two statements, whatever the catalog's size."
    )
    async def actions(self, info: Info) -> list[EarnableAction]:
        program = await info.context.program()
        now = info.context.runtime.clock.now()
        async with info.context.reader() as uow:
            found = await actions.earnable_actions(uow, program, self.member, now)
        return [EarnableAction.from_domain(e) for e in found]

    @strawberry.field(
        description="Friends this member referred, newest first: the member themself and "
        "admins (others get FORBIDDEN)."
    )
    async def referrals(
        self, info: Info, first: First = None, after: After = None
    ) -> ReferralConnection:
        return await member_referrals(info, self.member, first, after)

    @strawberry.field(
        description="The link to share, from the program's link template and "
        "`referralCode`; null when the program has no template."
    )
    async def referral_link(self, info: Info) -> str | None:
        return await referral_link(info, self.member)

    @strawberry.field(
        description="Successful referrals and the next milestone: the member themself and "
        "admins (others get FORBIDDEN)."
    )
    async def referral_progress(self, info: Info) -> ReferralProgress:
        return await referral_progress(info, self.member)

    @strawberry.field(description="The member's points wallet.")
    async def wallet(self, info: Info) -> Wallet:
        loaders = await info.context.loaders()
        wallet = await loaders.wallets.load(self.member.id)
        if wallet is None:  # every member gets a wallet at enrollment
            raise RuntimeError(f"member {self.member.id} has no wallet")
        return Wallet.from_domain(wallet)

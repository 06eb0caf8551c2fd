"""Reading the partner deal: statements, redemptions of the partner's rewards and their
statistics."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

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
from api.permissions import AdminOrPartner, PartnerOnly
from api.types.partners import PartnerRedemption, PartnerRewardStats, PartnerStatement
from api.types.rewards import Redemption, RedemptionStatus, Reward
from domain.services import partners
from domain.times import utc_time

REWARD_STATS_SHOWN = 100  # by reward id; a cap so the query can be priced (api/pricing.py)


@strawberry.type(description="The partner deal.")
class PartnerQueries:
    @strawberry.field(
        description="Partners their own, admins any partner's statement for a month.",
        permission_classes=[AdminOrPartner],
    )
    async def partner_statement(
        self,
        info: Info,
        period: Annotated[
            str, strawberry.argument(description="The month as YYYY-MM (UTC), e.g. 2026-11.")
        ],
        partner_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description=(
                    "Admins: global ID of the partner (`Partner.id`), required for them; "
                    "partners leave it out and get their own."
                )
            ),
        ] = None,
    ) -> PartnerStatement:
        context = info.context
        partner = ids.decode(partner_id, "Partner", ("partnerId",)) if partner_id else None
        async with context.reader() as uow:
            statement = await partners.partner_statement(uow, context.caller(), partner, period)
        return PartnerStatement.from_domain(statement, (await context.program()).currency)

    @strawberry.field(
        description="Partners: redemptions of their rewards, newest first. No `totalCount`: "
        "they grow without bound and no index leads with the partner; see "
        "`partnerRewardStats` for totals per reward.",
        permission_classes=[PartnerOnly],
    )
    async def partner_redemptions(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        status: Annotated[
            list[RedemptionStatus] | None,
            strawberry.argument(
                description=(
                    "Only redemptions in these statuses (as stored; EXPIRED is derived); "
                    "left out: all."
                )
            ),
        ] = None,
        since: Annotated[
            datetime | None,
            strawberry.argument(
                description=(
                    "Only redemptions created at or after this time, with its UTC offset; "
                    "left out: from the first."
                )
            ),
        ] = None,
        until: Annotated[
            datetime | None,
            strawberry.argument(
                description=(
                    "Only redemptions created before this time, with its UTC offset; left "
                    "out: up to now."
                )
            ),
        ] = None,
    ) -> Connection[PartnerRedemption]:
        context = info.context
        size = page_size(first)
        before = decode_cursor(after, "pr", datetime, uuid.UUID)
        since = utc_time(since, ("since",)) if since is not None else None
        until = utc_time(until, ("until",)) if until is not None else None
        program = await context.program()
        async with context.reader() as uow:
            partner = await partners.partner_of(uow, context.caller(), program)
            rows = await uow.partners.redemptions(
                program.id,
                partner.id,
                statuses=[s.name for s in status] if status else None,
                since=since,
                until=until,
                limit=size + 1,
                before=before,
            )
        edges = [
            Edge(
                cursor=encode_cursor("pr", r.redemption.created_at, r.redemption.id),
                node=PartnerRedemption(
                    redemption=Redemption.from_domain(r.redemption),
                    card_number=r.card_number,
                    display_name=r.display_name,
                ),
            )
            for r in rows[:size]
        ]
        return connection(edges, len(rows) > size, after)

    @strawberry.field(
        description="Partners: redemptions, points and use of each of their rewards "
        f"(at most {REWARD_STATS_SHOWN}).",
        permission_classes=[PartnerOnly],
    )
    async def partner_reward_stats(self, info: Info) -> list[PartnerRewardStats]:
        context = info.context
        program = await context.program()
        async with context.reader() as uow:
            partner = await partners.partner_of(uow, context.caller(), program)
            stats = await uow.partners.reward_stats(program.id, partner.id, REWARD_STATS_SHOWN)
            rewards = {
                r.id: r
                for r in await uow.rewards.get_many(program.id, [s.reward_id for s in stats])
            }
        return [
            PartnerRewardStats(
                reward=Reward.from_domain(rewards[s.reward_id], program.currency),
                redemptions=s.redemptions,
                points_spent=s.points_spent,
                used=s.used,
                issued=s.issued,
            )
            for s in stats
        ]

"""Earning campaigns as the API shows them: the `Campaign` node and its connection."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api import ids
from api.context import Info
from api.pagination import Connection, Counter
from api.types.node import Node
from api.types.program import Tier
from domain import earning
from domain.services import campaigns


@strawberry.enum(description="Where a campaign stands now.")
class CampaignStatus(Enum):
    SCHEDULED = strawberry.enum_value("SCHEDULED", description="Its window has not begun.")
    RUNNING = strawberry.enum_value("RUNNING", description="Purchases now earn its multiplier.")
    ENDED = strawberry.enum_value(
        "ENDED", description="Its window is over (or it was ended); it stays in the history."
    )


@strawberry.type(description="A time-bound earning campaign, e.g. double points on Black Friday.")
class Campaign(Node):
    name: str = strawberry.field(description="Name, shown in the ledger's reasons.")
    starts_at: datetime = strawberry.field(description="Start of the window (inclusive).")
    ends_at: datetime = strawberry.field(
        description="End of the window (exclusive); the moment it was ended, if it was."
    )
    multiplier: float = strawberry.field(description="Multiplier on purchase points, e.g. 2.0.")
    categories: list[str] = strawberry.field(
        description="Only lines in these categories earn it; empty: the whole order."
    )
    campaign: strawberry.Private[earning.Campaign]

    @classmethod
    def from_domain(cls, campaign: earning.Campaign) -> Campaign:
        return cls(
            id=strawberry.ID(ids.encode("Campaign", campaign.id)),
            name=campaign.name,
            starts_at=campaign.starts_at,
            ends_at=campaign.ends_at,
            multiplier=campaign.multiplier_permille / 1000,
            categories=list(campaign.categories),
            campaign=campaign,
        )

    @strawberry.field(description="Scheduled, running or ended, now.")
    def status(self, info: Info) -> CampaignStatus:
        now = info.context.runtime.clock.now()
        return CampaignStatus[campaigns.status_at(self.campaign, now).value]

    @strawberry.field(description="Lowest tier that earns it; null for every member.")
    async def min_tier(self, info: Info) -> Tier | None:
        for tier in await info.context.tiers():
            if tier.id == self.campaign.min_tier_id:
                return Tier.from_domain(tier)
        return None


@strawberry.type(
    name="CampaignConnection",
    description="A page of campaigns, latest start first; page with `first` and `after`.",
)
class CampaignConnection(Connection[Campaign]):
    counter: strawberry.Private[Counter]

    @strawberry.field(
        description="How many campaigns match in all pages together (with the `active` "
        "filter). Computed only when selected, with one statement more (a count over the "
        "program's campaigns, which are few)."
    )
    async def total_count(self) -> int:
        return await self.counter()

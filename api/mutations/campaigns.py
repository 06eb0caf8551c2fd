"""Earning campaigns for admins: `createCampaign`, `updateCampaign`, `endCampaign`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import AdminOnly
from api.types.campaigns import Campaign
from domain import earning
from domain.ports import UnitOfWork
from domain.services import campaigns


@strawberry.input(description="A time-bound earning campaign, e.g. double points on Black Friday.")
class CreateCampaignInput:
    name: str = strawberry.field(
        description=(
            "Name shown in the ledger's reasons, e.g. 'Black Friday' (at most 80 characters)."
        )
    )
    starts_at: datetime = strawberry.field(
        description="First instant it applies, with its UTC offset (ISO 8601)."
    )
    ends_at: datetime = strawberry.field(
        description="First instant it no longer applies, after `startsAt`, with its UTC offset."
    )
    multiplier: float = strawberry.field(
        description="Multiplier on purchase points, 1 to 100, e.g. 2.0 for double points."
    )
    min_tier_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "Global ID of the lowest tier that earns it (`Tier.id`); left out: every member."
        ),
    )
    categories: list[str] | None = strawberry.field(
        default=None,
        description=(
            "Only lines in these product categories earn it (case-insensitive); "
            "left out or empty: the whole order."
        ),
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with the same key and input returns the campaign the first "
        "request made (one campaign); the same key with other input is IDEMPOTENCY_CONFLICT. "
        "Left out: every request creates a new one.",
    )


@strawberry.type(description="Result of `createCampaign`.")
class CreateCampaignPayload:
    campaign: Campaign | None = strawberry.field(description="The new campaign.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="Changes to a campaign; fields left out stay as they are.")
class UpdateCampaignInput:
    campaign_id: strawberry.ID = strawberry.field(
        description="Global ID of the campaign (`Campaign.id`); it must not have ended."
    )
    name: str | None = strawberry.field(
        default=None, description="New name shown in the ledger's reasons; left out: unchanged."
    )
    starts_at: datetime | None = strawberry.field(
        default=None,
        description=(
            "New start, with its UTC offset; only before the campaign has started; "
            "left out: unchanged."
        ),
    )
    ends_at: datetime | None = strawberry.field(
        default=None,
        description="New end, in the future, with its UTC offset (`endCampaign` ends it "
        "now); left out: unchanged.",
    )
    multiplier: float | None = strawberry.field(
        default=None,
        description="New multiplier on purchase points, 1 to 100; left out: unchanged.",
    )
    min_tier_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new lowest tier; an explicit null opens it to every member.",
    )
    categories: list[str] | None = strawberry.field(
        default=None,
        description="Replaces the categories; [] for the whole order; left out: unchanged.",
    )


@strawberry.input(description="The campaign to end now.")
class EndCampaignInput:
    campaign_id: strawberry.ID = strawberry.field(
        description="Global ID of the campaign to end now (`Campaign.id`)."
    )


@strawberry.type(description="Result of `updateCampaign` and `endCampaign`.")
class UpdateCampaignPayload:
    campaign: Campaign | None = strawberry.field(description="The campaign after the change.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


def _campaign_id(value: strawberry.ID) -> uuid.UUID:
    return ids.decode(value, "Campaign", ("input", "campaignId"))


def _tier_id(value: strawberry.ID | None) -> uuid.UUID | None:
    return ids.decode(value, "Tier", ("input", "minTierId")) if value else None


@strawberry.type(description="Earning campaigns.")
class CampaignMutations:
    @strawberry.mutation(
        description="Admins: a time-bound earning campaign.", permission_classes=[AdminOnly]
    )
    async def create_campaign(
        self,
        info: Info,
        input: Annotated[
            CreateCampaignInput,
            strawberry.argument(
                description=(
                    "The campaign's name, window, multiplier and optional tier and categories."
                )
            ),
        ],
    ) -> CreateCampaignPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> earning.Campaign:
            command = campaigns.NewCampaign(
                name=input.name,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                multiplier=input.multiplier,
                min_tier_id=_tier_id(input.min_tier_id),
                categories=tuple(input.categories or ()),
                idempotency_key=input.idempotency_key,
            )
            return await campaigns.create_campaign(
                uow, context.runtime.clock, context.caller(), command
            )

        campaign, errors = await attempt(context, use_case)
        return CreateCampaignPayload(
            campaign=Campaign.from_domain(campaign) if campaign else None, errors=errors
        )

    @strawberry.mutation(
        description="Admins: change a scheduled or running campaign; only the fields given "
        "change. An ended campaign stays as it ran.",
        permission_classes=[AdminOnly],
    )
    async def update_campaign(
        self,
        info: Info,
        input: Annotated[
            UpdateCampaignInput,
            strawberry.argument(
                description=(
                    "The campaign and the fields to change; fields left out keep their value."
                )
            ),
        ],
    ) -> UpdateCampaignPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> earning.Campaign:
            everyone = input.min_tier_id is None  # explicit null; UNSET keeps the tier
            changes = campaigns.CampaignChanges(
                name=input.name,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                multiplier=input.multiplier,
                min_tier_id=None
                if everyone or input.min_tier_id is strawberry.UNSET
                else _tier_id(input.min_tier_id),
                everyone=everyone,
                categories=tuple(input.categories) if input.categories is not None else None,
            )
            return await campaigns.update_campaign(
                uow,
                context.runtime.clock,
                context.caller(),
                _campaign_id(input.campaign_id),
                changes,
            )

        campaign, errors = await attempt(context, use_case)
        return UpdateCampaignPayload(
            campaign=Campaign.from_domain(campaign) if campaign else None, errors=errors
        )

    @strawberry.mutation(
        description="Admins: end a campaign now. It stops applying at once and stays in the "
        "history (listed as ENDED); ending an ended campaign changes nothing.",
        permission_classes=[AdminOnly],
    )
    async def end_campaign(
        self,
        info: Info,
        input: Annotated[
            EndCampaignInput, strawberry.argument(description="The campaign to end now.")
        ],
    ) -> UpdateCampaignPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> earning.Campaign:
            return await campaigns.end_campaign(
                uow, context.runtime.clock, context.caller(), _campaign_id(input.campaign_id)
            )

        campaign, errors = await attempt(context, use_case)
        return UpdateCampaignPayload(
            campaign=Campaign.from_domain(campaign) if campaign else None, errors=errors
        )

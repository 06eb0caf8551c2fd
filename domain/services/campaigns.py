"""Earning campaigns: admins schedule, list, change and end them.

A campaign multiplies purchase points within its window [startsAt, endsAt) (see
domain/earning.py for how it applies). Ending one keeps it: its row and every entry it
boosted stay in the history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.access import require_role
from domain.contact import clean_text
from domain.earning import MAX_MULTIPLIER, Campaign
from domain.errors import InvalidInput, NotFound
from domain.model import Principal, Program, Role, new_id
from domain.ports import Clock, UnitOfWork
from domain.services.usecase import claim_optional, complete_optional, program_of
from domain.times import utc_time

MAX_NAME = 120
MAX_CATEGORIES = 50
CREATE_SCOPE = "create-campaign"


class CampaignStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    RUNNING = "RUNNING"
    ENDED = "ENDED"


def status_at(campaign: Campaign, now: datetime) -> CampaignStatus:
    """Where the campaign stands at `now`: before, inside or after its window."""
    if campaign.ends_at <= now:
        return CampaignStatus.ENDED
    if campaign.starts_at <= now:
        return CampaignStatus.RUNNING
    return CampaignStatus.SCHEDULED


@dataclass(frozen=True)
class NewCampaign:
    name: str
    starts_at: datetime
    ends_at: datetime
    multiplier: float
    min_tier_id: uuid.UUID | None = None
    categories: tuple[str, ...] = ()
    idempotency_key: str | None = None


def _field(name: str) -> tuple[str, str]:
    return ("input", name)


async def _validated(uow: UnitOfWork, program: Program, campaign: Campaign) -> Campaign:
    """The campaign as it may be stored: name, window, multiplier, tier and categories."""
    name = clean_text(campaign.name, _field("name"), max_length=MAX_NAME, required=True) or ""
    starts_at = utc_time(campaign.starts_at, _field("startsAt"))
    ends_at = utc_time(campaign.ends_at, _field("endsAt"))
    if ends_at <= starts_at:
        raise InvalidInput("endsAt must be after startsAt.", _field("endsAt"))
    if not 1000 <= campaign.multiplier_permille <= MAX_MULTIPLIER * 1000:
        raise InvalidInput("multiplier must be 1 to 100.", _field("multiplier"))
    if campaign.min_tier_id is not None and campaign.min_tier_id not in {
        t.id for t in await uow.tiers.all(program.id)
    }:
        raise NotFound("No such tier.", _field("minTierId"))
    if len(campaign.categories) > MAX_CATEGORIES:
        raise InvalidInput(f"At most {MAX_CATEGORIES} categories.", _field("categories"))
    categories = tuple(
        dict.fromkeys(
            (
                clean_text(c, (*_field("categories"), str(i)), max_length=80, required=True) or ""
            ).casefold()
            for i, c in enumerate(campaign.categories)
        )
    )
    return replace(campaign, name=name, categories=categories, starts_at=starts_at, ends_at=ends_at)


def _permille(multiplier: float) -> int:
    # Out of range (even inf or nan) becomes 0, which validation refuses with the field.
    return round(multiplier * 1000) if 0 <= multiplier <= MAX_MULTIPLIER else 0


async def create_campaign(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: NewCampaign
) -> Campaign:
    """Admins schedule extra points for a window, optionally for a tier and categories.
    With an idempotency key, a retry returns the campaign the first request made."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    request = {k: v for k, v in vars(command).items() if k != "idempotency_key"}
    key, previous = await claim_optional(
        uow, program, CREATE_SCOPE, command.idempotency_key, request, clock.now()
    )
    if previous is not None:
        return await _campaign_of(uow, program, uuid.UUID(previous["campaign"]), "idempotencyKey")
    campaign = Campaign(
        id=new_id(),
        program_id=program.id,
        name=command.name,
        starts_at=command.starts_at,
        ends_at=command.ends_at,
        multiplier_permille=_permille(command.multiplier),
        min_tier_id=command.min_tier_id,
        categories=command.categories,
    )
    campaign = await _validated(uow, program, campaign)
    await uow.campaigns.add(campaign)
    await complete_optional(uow, program, CREATE_SCOPE, key, {"campaign": str(campaign.id)})
    await uow.commit()
    return campaign


async def _campaign_of(
    uow: UnitOfWork, program: Program, campaign_id: uuid.UUID, field: str, *, lock: bool = False
) -> Campaign:
    campaign = await uow.campaigns.get(program.id, campaign_id, lock=lock)
    if campaign is None:
        raise NotFound("No such campaign.", _field(field))
    return campaign


@dataclass(frozen=True)
class CampaignChanges:
    """What `updateCampaign` changes; None leaves a field as it is."""

    name: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    multiplier: float | None = None
    min_tier_id: uuid.UUID | None = None
    everyone: bool = False  # drop the minimum tier
    categories: tuple[str, ...] | None = None


async def update_campaign(
    uow: UnitOfWork,
    clock: Clock,
    principal: Principal,
    campaign_id: uuid.UUID,
    changes: CampaignChanges,
) -> Campaign:
    """Admins change a scheduled or running campaign; only the fields given change. An
    ended campaign is history and stays as it was."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    campaign = await _campaign_of(uow, program, campaign_id, "campaignId", lock=True)
    if status_at(campaign, now) is CampaignStatus.ENDED:
        raise InvalidInput(
            "This campaign has ended and stays as it ran; create a new one.", _field("campaignId")
        )
    updated = replace(
        campaign,
        name=changes.name if changes.name is not None else campaign.name,
        starts_at=changes.starts_at or campaign.starts_at,
        ends_at=changes.ends_at or campaign.ends_at,
        multiplier_permille=(
            _permille(changes.multiplier)
            if changes.multiplier is not None
            else campaign.multiplier_permille
        ),
        min_tier_id=None if changes.everyone else (changes.min_tier_id or campaign.min_tier_id),
        categories=changes.categories if changes.categories is not None else campaign.categories,
    )
    updated = await _validated(uow, program, updated)
    if updated.ends_at <= now:
        raise InvalidInput(
            "endsAt must lie in the future; endCampaign ends a campaign now.", _field("endsAt")
        )
    await uow.campaigns.update(updated)
    await uow.commit()
    return updated


async def end_campaign(
    uow: UnitOfWork, clock: Clock, principal: Principal, campaign_id: uuid.UUID
) -> Campaign:
    """Admins end a campaign now: it stops applying and stays in the history. One that had
    not started keeps an empty window at this moment (it never ran); ending an ended one
    changes nothing."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    campaign = await _campaign_of(uow, program, campaign_id, "campaignId", lock=True)
    if status_at(campaign, now) is CampaignStatus.ENDED:
        return campaign
    ended = replace(campaign, starts_at=min(campaign.starts_at, now), ends_at=now)
    await uow.campaigns.update(ended)
    await uow.commit()
    return ended


@dataclass(frozen=True)
class CampaignPage:
    campaigns: list[Campaign]
    has_next: bool
    program_id: uuid.UUID  # with `now` and the `active` filter: what `count_campaigns` counts
    now: datetime


async def list_campaigns(
    uow: UnitOfWork,
    clock: Clock,
    principal: Principal,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    active: bool | None,
) -> CampaignPage:
    """Admins: the program's campaigns, latest start first; `active` keeps only those
    running now (true) or only those not running now (false)."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    found = await uow.campaigns.page(
        program.id, limit=limit + 1, after=after, active=active, now=now
    )
    return CampaignPage(found[:limit], len(found) > limit, program.id, now)


async def count_campaigns(uow: UnitOfWork, page: CampaignPage, active: bool | None) -> int:
    """How many campaigns the listing of `page` holds over all its pages (one read)."""
    return await uow.campaigns.count(page.program_id, active=active, now=page.now)

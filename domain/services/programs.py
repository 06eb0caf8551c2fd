"""Creating and configuring programs and their tiers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from domain.access import require_role
from domain.contact import clean_text, validate_slug
from domain.earning import MAX_MULTIPLIER, validate_earn_rate
from domain.errors import InvalidInput, NotFound
from domain.model import (
    EarnRate,
    EarnRules,
    InStoreRules,
    PointsPolicy,
    PointValue,
    Principal,
    Program,
    Role,
    Tier,
    new_id,
)
from domain.money import validate_currency
from domain.ports import Clock, UnitOfWork
from domain.services.usecase import claim_optional, complete_optional, program_of
from domain.tiers import retirement
from domain.times import valid_zone

DEFAULT_EARN_RATE = EarnRate(points=10, per_amount_minor=100)
ENTRY_TIER_NAME = "Member"
MAX_NAME = 80
MAX_BENEFITS = 20
MAX_BENEFIT = 120


async def create_program(
    uow: UnitOfWork, clock: Clock, *, slug: str, name: str, currency: str
) -> Program:
    """A new program with its rank-0 entry tier ("Member", threshold 0, 1.0x)."""
    program = Program(
        id=new_id(),
        slug=validate_slug(slug, ("slug",)),
        name=clean_text(name, ("name",), max_length=MAX_NAME, required=True) or "",
        points_name="points",
        currency=validate_currency(currency, ("currency",)),
        earn_rate=DEFAULT_EARN_RATE,
        created_at=clock.now(),
    )
    if not await uow.programs.add(program):
        raise InvalidInput(f"A program with the slug {slug!r} exists already.", ("slug",))
    entry = Tier(
        id=new_id(),
        program_id=program.id,
        name=ENTRY_TIER_NAME,
        rank=0,
        threshold=0,
        multiplier_permille=1000,
    )
    await uow.tiers.add(entry)
    await uow.commit()
    return program


@dataclass(frozen=True)
class ProgramChanges:
    name: str | None = None
    points_name: str | None = None
    earn_rate: tuple[int, int] | None = None
    point_value: PointValue | None = None
    in_store: InStoreRules | None = None
    policy: PointsPolicy | None = None
    earn_rules: EarnRules | None = None
    time_zone: str | None = None


def validate_policy(policy: PointsPolicy, field: tuple[str, ...]) -> PointsPolicy:
    """Hold 0 to 365 days; expiry after 1 to 120 months."""
    if not 0 <= policy.hold_days <= 365:
        raise InvalidInput("holdDays must be 0 to 365.", (*field, "holdDays"))
    if not 1 <= policy.expiry_months <= 120:
        raise InvalidInput("expiryMonths must be 1 to 120.", (*field, "expiryMonths"))
    return policy


def validate_earn_rules(rules: EarnRules, field: tuple[str, ...]) -> EarnRules:
    """Category multipliers 0 (excluded) to 100x; a spend bonus needs a positive threshold."""
    seen: dict[str, int] = {}
    for index, (category, permille) in enumerate(rules.category_multipliers[:100]):
        at = (*field, "categoryMultipliers", str(index))
        text = clean_text(category, (*at, "category"), max_length=80, required=True) or ""
        name = text.casefold()
        if not 0 <= permille <= 100_000:
            raise InvalidInput("multiplier must be 0 to 100.", (*at, "multiplier"))
        seen[name] = permille
    threshold = rules.bonus_threshold_minor
    if threshold is not None and not 0 < threshold <= 1_000_000_000:
        raise InvalidInput("bonusThresholdMinor must be positive.", (*field, "bonusThresholdMinor"))
    if not 0 <= rules.bonus_points <= 1_000_000:
        raise InvalidInput("bonusPoints must be 0 to 1,000,000.", (*field, "bonusPoints"))
    return EarnRules(tuple(sorted(seen.items())), threshold, rules.bonus_points)


def validate_point_value(value: PointValue, field: tuple[str, ...]) -> PointValue:
    """`points` buy `valueMinor` of money; at least `minPoints`, at most `maxPoints` an order."""
    if not 0 < value.points <= 1_000_000:
        raise InvalidInput("points must be 1 to 1,000,000.", (*field, "points"))
    if not 0 < value.value_minor <= 1_000_000:
        raise InvalidInput("valueMinor must be 1 to 1,000,000.", (*field, "valueMinor"))
    if not 1 <= value.min_points <= 1_000_000_000:
        raise InvalidInput("minPoints must be at least 1.", (*field, "minPoints"))
    if value.max_points is not None and value.max_points < value.min_points:
        raise InvalidInput("maxPoints must not be below minPoints.", (*field, "maxPoints"))
    return value


async def update_program(uow: UnitOfWork, principal: Principal, changes: ProgramChanges) -> Program:
    """Admins rename the program or its points and set the earn rate."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    updated = replace(program)
    if changes.name is not None:
        updated.name = (
            clean_text(changes.name, ("input", "name"), max_length=MAX_NAME, required=True) or ""
        )
    if changes.points_name is not None:
        updated.points_name = (
            clean_text(changes.points_name, ("input", "pointsName"), max_length=40, required=True)
            or ""
        )
    if changes.earn_rate is not None:
        points, per = changes.earn_rate
        updated.earn_rate = validate_earn_rate(points, per, ("input", "earnRate"))
    if changes.point_value is not None:
        updated.point_value = validate_point_value(changes.point_value, ("input", "pointValue"))
    if changes.in_store is not None:
        if not 1 <= changes.in_store.window_minutes <= 24 * 60:
            raise InvalidInput(
                "windowMinutes must be 1 to 1440.", ("input", "inStore", "windowMinutes")
            )
        updated.in_store = changes.in_store
    if changes.policy is not None:
        updated.policy = validate_policy(changes.policy, ("input", "policy"))
    if changes.earn_rules is not None:
        updated.earn_rules = validate_earn_rules(changes.earn_rules, ("input", "earnRules"))
    if changes.time_zone is not None:
        updated.time_zone = valid_zone(changes.time_zone, ("input", "timeZone"))
    await uow.programs.update(updated)
    await uow.commit()
    return updated


def multiplier_permille(value: float | None, field: tuple[str, ...]) -> int:
    """A tier multiplier as thousandths; 0 < x <= 100, at most three decimals count."""
    if value is None:
        return 1000
    if not 0 < value <= MAX_MULTIPLIER or value != value:
        raise InvalidInput(f"The multiplier must be above 0 and at most {MAX_MULTIPLIER}.", field)
    return round(value * 1000)


@dataclass(frozen=True)
class NewTier:
    name: str
    threshold: int
    earn_multiplier: float | None = None
    benefits: tuple[str, ...] = ()
    idempotency_key: str | None = None


async def create_tier(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: NewTier
) -> Tier:
    """Admins add a tier above the existing ones; its threshold must exceed theirs. With an
    idempotency key, a retry returns the tier the first request made."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    request = {k: v for k, v in vars(command).items() if k != "idempotency_key"}
    # Claimed before the checks against the existing tiers: a retry finds its own tier there.
    key, previous = await claim_optional(
        uow, program, "create-tier", command.idempotency_key, request, clock.now()
    )
    if previous is not None:
        found = await uow.tiers.get_many(program.id, [uuid.UUID(previous["tier"])])
        if not found:
            raise NotFound("The tier this key created has been retired.", ("input", "name"))
        return found[0]
    name = clean_text(command.name, ("input", "name"), max_length=MAX_NAME, required=True) or ""
    if len(command.benefits) > MAX_BENEFITS:
        raise InvalidInput(f"At most {MAX_BENEFITS} benefits.", ("input", "benefits"))
    benefits = tuple(
        clean_text(b, ("input", "benefits", str(i)), max_length=MAX_BENEFIT, required=True) or ""
        for i, b in enumerate(command.benefits)
    )
    existing = await uow.tiers.all(program.id)
    top = existing[-1]
    if command.threshold <= top.threshold or command.threshold > 1_000_000_000:
        raise InvalidInput(
            f"The threshold must be above {top.threshold}, the threshold of {top.name!r}.",
            ("input", "threshold"),
        )
    if any(t.name.casefold() == name.casefold() for t in existing):
        raise InvalidInput(f"A tier named {name!r} exists already.", ("input", "name"))
    tier = Tier(
        id=new_id(),
        program_id=program.id,
        name=name,
        rank=top.rank + 1,
        threshold=command.threshold,
        multiplier_permille=multiplier_permille(
            command.earn_multiplier, ("input", "earnMultiplier")
        ),
        benefits=benefits,
    )
    if not await uow.tiers.add(tier):
        raise InvalidInput("Another tier was added at the same time; try again.", ("input", "name"))
    await complete_optional(uow, program, "create-tier", key, {"tier": str(tier.id)})
    await uow.commit()
    return tier


@dataclass(frozen=True)
class TierChanges:
    name: str | None = None
    threshold: int | None = None
    earn_multiplier: float | None = None
    benefits: tuple[str, ...] | None = None
    paid_fee_minor: int | None = None
    reduced_fee_minor: int | None = None
    reduced_from_points: int | None = None
    not_for_sale: bool = False


async def update_tier(
    uow: UnitOfWork, principal: Principal, tier_id: uuid.UUID, changes: TierChanges
) -> Tier:
    """Admins rename a tier, move its threshold between its neighbours', change its
    multiplier, perks or paid-tier fees. The entry tier's threshold stays 0."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    tiers = await uow.tiers.all(program.id)
    index = next((i for i, t in enumerate(tiers) if t.id == tier_id), None)
    if index is None:
        raise NotFound("No such tier.", ("input", "tierId"))
    tier = replace(tiers[index])
    if changes.name is not None:
        name = clean_text(changes.name, ("input", "name"), max_length=MAX_NAME, required=True) or ""
        if any(t.name.casefold() == name.casefold() and t.id != tier.id for t in tiers):
            raise InvalidInput(f"A tier named {name!r} exists already.", ("input", "name"))
        tier.name = name
    if changes.threshold is not None:
        lower = tiers[index - 1].threshold if index > 0 else None
        upper = tiers[index + 1].threshold if index + 1 < len(tiers) else None
        if index == 0 and changes.threshold != 0:
            raise InvalidInput("The entry tier's threshold is 0.", ("input", "threshold"))
        if index > 0 and (
            changes.threshold <= (lower or 0) or (upper is not None and changes.threshold >= upper)
        ):
            raise InvalidInput(
                "The threshold must stay between the tiers below and above.",
                ("input", "threshold"),
            )
        tier.threshold = changes.threshold
    if changes.earn_multiplier is not None:
        tier.multiplier_permille = multiplier_permille(
            changes.earn_multiplier, ("input", "earnMultiplier")
        )
    if changes.benefits is not None:
        tier.benefits = tuple(
            clean_text(b, ("input", "benefits", str(i)), max_length=MAX_BENEFIT, required=True)
            or ""
            for i, b in enumerate(changes.benefits[:MAX_BENEFITS])
        )
    if changes.not_for_sale:
        tier.paid_fee_minor = tier.reduced_fee_minor = tier.reduced_from_points = None
    for value, name in (
        (changes.paid_fee_minor, "paidFeeMinor"),
        (changes.reduced_fee_minor, "reducedFeeMinor"),
        (changes.reduced_from_points, "reducedFromPoints"),
    ):
        if value is not None and not 0 <= value <= 1_000_000_000:
            raise InvalidInput(f"{name} must be 0 to 1,000,000,000.", ("input", name))
    if changes.paid_fee_minor is not None:
        tier.paid_fee_minor = changes.paid_fee_minor
    if changes.reduced_fee_minor is not None:
        tier.reduced_fee_minor = changes.reduced_fee_minor
        tier.reduced_from_points = changes.reduced_from_points
    if tier.reduced_fee_minor is not None and tier.reduced_from_points is None:
        raise InvalidInput("A reduced fee needs reducedFromPoints.", ("input", "reducedFromPoints"))
    if tier.rank == 0 and tier.paid_fee_minor is not None:
        raise InvalidInput("The entry tier cannot be sold.", ("input", "paidFeeMinor"))
    await uow.tiers.update(tier)
    await uow.commit()
    return tier


async def retire_tier(uow: UnitOfWork, principal: Principal, tier_id: uuid.UUID) -> list[Tier]:
    """Admins retire a tier: its members, rewards and campaigns move to the tier below, and
    the tiers above close the gap. The entry tier cannot be retired."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    tiers = await uow.tiers.all(program.id)
    index = next((i for i, t in enumerate(tiers) if t.id == tier_id), None)
    if index is None:
        raise NotFound("No such tier.", ("input", "tierId"))
    if index == 0:
        raise InvalidInput("The entry tier cannot be retired.", ("input", "tierId"))
    change = retirement(tiers, tiers[index])
    retired, successor = change.retired.id, change.successor.id
    await uow.members.move_tier(program.id, retired, successor)
    await uow.rewards.move_tier(program.id, retired, successor)
    await uow.campaigns.move_tier(program.id, retired, successor)
    await uow.tiers.remove(program.id, retired)
    for tier in change.moved_down:
        await uow.tiers.set_rank(program.id, tier.id, tier.rank)
    await uow.commit()
    return await uow.tiers.all(program.id)

"""Earning actions: the admin catalog, reporting an action, the signup and birthday grants,
and what a member can still earn (rules: domain/actions.py).

Every credit locks the member's wallet first, then counts the member's records of the
action, then writes record, ledger entry (or voucher) and idempotency answer in the one
transaction: two reports racing at a limit credit once.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from domain import ledger
from domain.access import require_role
from domain.actions import (
    AUTOMATIC_KINDS,
    MAX_LIVE_ACTIONS,
    SIGNUP_GRANT,
    ActionCounts,
    ActionKind,
    ActionLimits,
    ActionRecord,
    Allowance,
    EarningAction,
    Reporter,
    allowance,
    check_limits,
    check_reporter,
    description,
    normalise_key,
    normalise_network,
    period_windows,
    rules_for_kind,
    validate_limits,
)
from domain.contact import clean_text, validate_birthday
from domain.errors import (
    ActionInactive,
    BirthdayAlreadySet,
    InvalidInput,
    LimitReached,
    NotEnrolled,
    NotFound,
    OutOfStock,
    RewardUnavailable,
)
from domain.events import RedemptionChanged
from domain.idempotency import validate_key
from domain.model import EntryKind, Member, Principal, Program, Role, Wallet, new_id
from domain.ports import Clock, UnitOfWork
from domain.rewards import Redemption, RedemptionStatus, new_voucher_code, voucher_expiry
from domain.services.challenges import advance_challenges_for_action
from domain.services.usecase import (
    claim,
    claim_optional,
    complete_optional,
    ensure_active,
    locked_wallet,
    member_for,
    program_of,
    upgrade_if_reached,
    wallet_of,
)
from domain.times import local_date, utc_time

MAX_NAME = 120
MAX_DESCRIPTION = 500
CREATE_SCOPE = "create-earning-action"


def _field(*names: str) -> tuple[str, ...]:
    return ("input", *names)


# --- The catalog (admins) ------------------------------------------------------------------


@dataclass(frozen=True)
class NewAction:
    key: str
    kind: ActionKind
    name: str
    points: int | None = None
    reward_id: uuid.UUID | None = None
    description: str | None = None
    limits: ActionLimits = field(default_factory=ActionLimits)
    reported_by: Reporter | None = None
    network: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    idempotency_key: str | None = None


async def _validated(uow: UnitOfWork, program: Program, action: EarningAction) -> EarningAction:
    """The action as it may be stored: name, reward or points, limits, window, reporter."""
    name = clean_text(action.name, _field("name"), max_length=MAX_NAME, required=True) or ""
    text = clean_text(action.description, _field("description"), max_length=MAX_DESCRIPTION)
    if (action.points is None) == (action.reward_id is None):
        raise InvalidInput("Give points or a rewardId (exactly one).", _field("points"))
    if action.points is not None and not 1 <= action.points <= ledger.MAX_POINTS_PER_CHANGE:
        raise InvalidInput(f"points must be 1 to {ledger.MAX_POINTS_PER_CHANGE}.", _field("points"))
    if action.reward_id is not None:
        reward = await uow.rewards.get(program.id, action.reward_id)
        if reward is None or reward.archived:
            raise NotFound("No such reward in the catalog.", _field("rewardId"))
    starts_at = utc_time(action.starts_at, _field("startsAt")) if action.starts_at else None
    ends_at = utc_time(action.ends_at, _field("endsAt")) if action.ends_at else None
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise InvalidInput("endsAt must be after startsAt.", _field("endsAt"))
    limits, reporter = rules_for_kind(
        action.kind, validate_limits(action.limits, _field("limits")), action.reported_by
    )
    if reporter is Reporter.MEMBER and limits.lifetime is None and limits.per_period is None:
        # the app reports these itself: without a limit a member could mint points at will
        raise InvalidInput(
            "Actions members report need a limit: lifetime or per period.", _field("limits")
        )
    return replace(
        action,
        name=name,
        description=text or "",
        starts_at=starts_at,
        ends_at=ends_at,
        limits=limits,
        reported_by=reporter,
    )


async def create_earning_action(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: NewAction
) -> EarningAction:
    """Admins add an action to the catalog. A program has one live signup, one birthday and
    one follow per network; keys are unique for good (archived ones keep theirs)."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    request = {k: v for k, v in vars(command).items() if k != "idempotency_key"}
    key, previous = await claim_optional(
        uow, program, CREATE_SCOPE, command.idempotency_key, request, now
    )
    if previous is not None:
        return await _action_of(uow, program, uuid.UUID(previous["action"]), "idempotencyKey")
    action = EarningAction(
        id=new_id(),
        program_id=program.id,
        key=normalise_key(command.key, _field("key")),
        kind=command.kind,
        name=command.name,
        created_at=now,
        points=command.points,
        reward_id=command.reward_id,
        description=command.description or "",
        limits=command.limits,
        reported_by=command.reported_by or Reporter.BACKEND,
        network=normalise_network(command.network, command.kind, _field("network")),
        starts_at=command.starts_at,
        ends_at=command.ends_at,
    )
    if command.kind in AUTOMATIC_KINDS and command.reported_by not in (None, Reporter.AUTOMATIC):
        raise InvalidInput(
            f"{command.kind.value} is granted automatically; leave reportedBy out.",
            _field("reportedBy"),
        )
    action = await _validated(uow, program, action)
    if await uow.actions.count(program.id, archived=False) >= MAX_LIVE_ACTIONS:
        raise LimitReached(
            f"A program has at most {MAX_LIVE_ACTIONS} live actions; archive one first."
        )
    if not await uow.actions.add(action):
        raise await _taken(uow, program, action)
    await complete_optional(uow, program, CREATE_SCOPE, key, {"action": str(action.id)})
    await uow.commit()
    return action


async def _taken(uow: UnitOfWork, program: Program, action: EarningAction) -> InvalidInput:
    """Why an insert clashed: the key, or the slot of a one-per-program kind."""
    if await uow.actions.by_key(program.id, action.key) is not None:
        return InvalidInput(f"The key {action.key!r} is taken in this program.", _field("key"))
    if action.kind is ActionKind.SOCIAL_FOLLOW:
        return InvalidInput(
            f"A live follow action for {action.network} exists; archive it first.",
            _field("network"),
        )
    return InvalidInput(
        f"A live {action.kind.value} action exists; archive it first.", _field("kind")
    )


async def _action_of(
    uow: UnitOfWork, program: Program, action_id: uuid.UUID, field: str, *, lock: bool = False
) -> EarningAction:
    action = await uow.actions.get(program.id, action_id, lock=lock)
    if action is None:
        raise NotFound("No such earning action.", _field(field))
    return action


@dataclass(frozen=True)
class ActionChanges:
    """What `updateEarningAction` changes; None (or `keep_*`) leaves a field as it is.
    Points and a reward replace each other."""

    name: str | None = None
    description: str | None = None
    points: int | None = None
    reward_id: uuid.UUID | None = None
    limits: ActionLimits | None = None
    reported_by: Reporter | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    clear_starts_at: bool = False
    clear_ends_at: bool = False


async def update_earning_action(
    uow: UnitOfWork,
    clock: Clock,
    principal: Principal,
    action_id: uuid.UUID,
    changes: ActionChanges,
) -> EarningAction:
    """Admins change a live action; key, kind and network stay (clients report by key).
    Records already earned keep what they paid."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    action = await _action_of(uow, program, action_id, "actionId", lock=True)
    if action.archived_at is not None:
        raise ActionInactive("This action is archived; create a new one.", _field("actionId"))
    if changes.points is not None and changes.reward_id is not None:
        raise InvalidInput("Give points or a rewardId, not both.", _field("points"))
    points, reward_id = action.points, action.reward_id
    if changes.points is not None:
        points, reward_id = changes.points, None
    elif changes.reward_id is not None:
        points, reward_id = None, changes.reward_id
    if action.kind in AUTOMATIC_KINDS and changes.reported_by not in (None, Reporter.AUTOMATIC):
        raise InvalidInput(
            f"{action.kind.value} is granted automatically; leave reportedBy out.",
            _field("reportedBy"),
        )
    updated = replace(
        action,
        name=changes.name if changes.name is not None else action.name,
        description=(
            changes.description if changes.description is not None else action.description
        ),
        points=points,
        reward_id=reward_id,
        limits=changes.limits if changes.limits is not None else action.limits,
        reported_by=changes.reported_by or action.reported_by,
        starts_at=None if changes.clear_starts_at else (changes.starts_at or action.starts_at),
        ends_at=None if changes.clear_ends_at else (changes.ends_at or action.ends_at),
    )
    updated = await _validated(uow, program, updated)
    await uow.actions.update(updated)
    await uow.commit()
    return updated


async def archive_earning_action(
    uow: UnitOfWork, clock: Clock, principal: Principal, action_id: uuid.UUID
) -> EarningAction:
    """Admins retire an action: it pays no more and frees its slot; its records stay.
    Archiving an archived action changes nothing."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    action = await _action_of(uow, program, action_id, "actionId", lock=True)
    if action.archived_at is not None:
        return action
    archived = replace(action, archived_at=clock.now())
    await uow.actions.update(archived)
    await uow.commit()
    return archived


@dataclass(frozen=True)
class ActionPage:
    actions: list[EarningAction]
    has_next: bool
    program_id: uuid.UUID


async def list_earning_actions(
    uow: UnitOfWork,
    principal: Principal,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    archived: bool,
) -> ActionPage:
    """Admins: the catalog, oldest first; archived actions only when asked."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    found = await uow.actions.page(program.id, limit=limit + 1, after=after, archived=archived)
    return ActionPage(found[:limit], len(found) > limit, program.id)


# --- Earning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordAction:
    action: str
    event_id: str
    member_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ActionResult:
    record: ActionRecord
    action: EarningAction
    wallet: Wallet
    redemption: Redemption | None = None


async def action_credited(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    action: EarningAction,
    wallet: Wallet,
    now: datetime,
) -> Wallet:
    """Called once for every action a member earns (reported, signup or birthday), in its
    transaction after the credit, with the wallet locked: challenges count the action (and
    pay those it completes). Answers the wallet after any payout."""
    after = await advance_challenges_for_action(
        uow, program, member, action.kind.value, now, wallet
    )
    return after or wallet


async def _reporting_member(
    uow: UnitOfWork,
    principal: Principal,
    program: Program,
    member_id: uuid.UUID | None,
    now: datetime,
) -> Member:
    """Members report for themselves; the backend names the member."""
    field = _field("memberId")
    if principal.role is Role.MEMBER:
        member = await uow.members.get_by_subject(program.id, principal.subject)
        if member is None:
            raise NotEnrolled("Enroll first.")
        if member_id is not None and member_id != member.id:
            raise InvalidInput("Members report their own actions; leave memberId out.", field)
        return member
    if member_id is None:
        raise InvalidInput("Say which member did it.", field)
    # The web shop reports for any member of its program, server to server, as it credits
    # orders; staff need the member's card scanned, as for anything else.
    return await member_for(uow, principal, program, member_id, field, now, order=True)


async def record_action(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: RecordAction
) -> ActionResult:
    """A member did an action of the catalog: credit its points (or issue its reward's
    voucher) once per event id, within its limits, window and reporter."""
    require_role(principal, Role.MEMBER, Role.STAFF, Role.ADMIN, Role.SHOP)
    program = await program_of(uow, principal)
    now = clock.now()
    event_id = validate_key(command.event_id, _field("eventId"))
    key = normalise_key(command.action, _field("action"))
    member = await _reporting_member(uow, principal, program, command.member_id, now)
    action = await uow.actions.by_key(program.id, key)
    if action is None:
        raise NotFound(f"No earning action has the key {key!r}.", _field("action"))
    member_reports = principal.role is Role.MEMBER
    # A member's event ids are their own: another member's can neither collide nor be probed.
    scope = f"action:{member.id.hex}" if member_reports else "action"
    request = {"member": str(member.id), "action": action.key}
    previous = await claim(uow, program, scope, event_id, request, now, _field("eventId"))
    if previous is not None:
        return await _replayed(uow, program, member, action, uuid.UUID(previous["record"]))
    ensure_active(member)
    check_reporter(action, member_reports)
    if not action.active_at(now):
        raise ActionInactive(f"'{action.name}' cannot be earned now.", _field("action"))
    result = await _credit(uow, program, member, action, now, principal.actor, event_id=event_id)
    assert result is not None  # only automatic grants can clash
    await uow.idempotency.complete(program.id, scope, event_id, {"record": str(result.record.id)})
    await uow.commit()
    return result


async def _replayed(
    uow: UnitOfWork, program: Program, member: Member, action: EarningAction, record_id: uuid.UUID
) -> ActionResult:
    record = await uow.actions.record(program.id, record_id)
    assert record is not None
    redemption = (
        await uow.rewards.redemption(program.id, record.redemption_id)
        if record.redemption_id
        else None
    )
    return ActionResult(record, action, await wallet_of(uow, program, member.id), redemption)


async def _credit(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    action: EarningAction,
    now: datetime,
    actor: str,
    *,
    event_id: str | None = None,
    grant_key: str | None = None,
) -> ActionResult | None:
    """Lock the wallet, check the limits on the member's records, then pay: a ledger
    entry of kind ACTION, or the reward's voucher (no points taken). None when an
    automatic grant with `grant_key` exists already (nothing written)."""
    wallet = await locked_wallet(uow, program, member.id)
    windows = period_windows(now, program.time_zone)
    tally = (await uow.actions.tallies(program.id, member.id, [action.id], windows)).get(action.id)
    check_limits(action, tally.counts(action) if tally else ActionCounts(), now, program.time_zone)
    record_id = new_id()
    posting = None
    redemption = None
    if action.points is not None:
        posting = ledger.credit(
            wallet,
            action.points,
            kind=EntryKind.ACTION,
            now=now,
            description=description(action),
            reference=f"action:{action.key}:{record_id}",
            actor=actor,
            expires_at=ledger.lot_expiry(program.policy, now, program.time_zone),
        )
    else:
        redemption = await _voucher(uow, program, member, action, now)
    record = ActionRecord(
        id=record_id,
        program_id=program.id,
        member_id=member.id,
        action_id=action.id,
        points=action.points or 0,
        occurred_at=now,
        actor=actor,
        event_id=event_id,
        grant_key=grant_key,
        entry_id=posting.entry.id if posting else None,
        redemption_id=redemption.id if redemption else None,
    )
    if not await uow.actions.add_record(record):
        return None  # granted already (another job runner); the caller rolls back
    if posting is not None:
        await uow.ledger.post(posting, previous_version=wallet.version)
        wallet = posting.wallet
    if redemption is not None:
        await uow.rewards.add_redemption(redemption, [])
        uow.record(
            RedemptionChanged(
                program_id=program.id,
                member_id=member.id,
                redemption_id=redemption.id,
                status=redemption.status.value,
            )
        )
    after = await action_credited(uow, program, member, action, wallet, now)
    if after.version != wallet.version or posting is not None:
        # the action's points and any challenge it completed count for the tier at once
        await upgrade_if_reached(uow, program, member, await uow.tiers.all(program.id), now)
    return ActionResult(record, action, after, redemption)


async def _voucher(
    uow: UnitOfWork, program: Program, member: Member, action: EarningAction, now: datetime
) -> Redemption:
    """The action's reward issued as a redeemed one is, without taking points."""
    assert action.reward_id is not None
    field = _field("action")
    reward = await uow.rewards.get(program.id, action.reward_id)
    if reward is None or reward.archived:
        raise RewardUnavailable("The reward this action pays is no longer offered.", field)
    if reward.stock is not None and not await uow.rewards.take_stock(program.id, reward.id):
        raise OutOfStock("The reward this action pays is out of stock.", field)
    return Redemption(
        id=new_id(),
        program_id=program.id,
        member_id=member.id,
        reward_id=reward.id,
        status=RedemptionStatus.ISSUED,
        points_spent=0,
        voucher_code=new_voucher_code(),
        created_at=now,
        expires_at=voucher_expiry(reward, now),
    )


async def grant_signup(uow: UnitOfWork, program: Program, member: Member, now: datetime) -> None:
    """The signup bonus, in the enrollment's transaction, when the program has a live
    SIGNUP action (once per member: its grant key)."""
    action = await uow.actions.by_slot(program.id, ActionKind.SIGNUP.value)
    if action is None or not action.active_at(now):
        return
    # A welcome voucher that ran out never stops anyone joining.
    with suppress(OutOfStock, RewardUnavailable):
        await _credit(uow, program, member, action, now, "system:signup", grant_key=SIGNUP_GRANT)


async def grant_birthday(
    uow: UnitOfWork,
    program: Program,
    action: EarningAction,
    member: Member,
    grant_key: str,
    now: datetime,
) -> bool:
    """The birthday bonus for one member, once per `grant_key` (member and year): False when
    it was paid already (by this or another job runner) or the member cannot earn it. The
    caller holds the member's wallet, in its own transaction."""
    if member.blocked or not action.active_at(now):
        return False
    try:
        return (
            await _credit(uow, program, member, action, now, "system:jobs", grant_key=grant_key)
            is not None
        )
    except (OutOfStock, RewardUnavailable):
        return False  # the voucher is gone: nothing to give this year


# --- What a member can still earn ------------------------------------------------------------


@dataclass(frozen=True)
class Earnable:
    action: EarningAction
    allowance: Allowance


async def earnable_actions(
    uow: UnitOfWork, program: Program, member: Member, now: datetime
) -> list[Earnable]:
    """The live actions the member can still earn (now or after a period resets), with what
    is left of each limit; those whose lifetime limit is used up, and the signup bonus (paid
    on enrolling or never), are left out (two reads)."""
    actions = await uow.actions.live(program.id, now)
    windows = period_windows(now, program.time_zone)
    tallies = await uow.actions.tallies(program.id, member.id, [a.id for a in actions], windows)
    found = []
    for action in actions:
        if action.kind is ActionKind.SIGNUP:
            continue  # paid on enrolling or never: nothing left to do for a member
        tally = tallies.get(action.id)
        counts = tally.counts(action) if tally else ActionCounts()
        left = allowance(action, counts, now, program.time_zone)
        if left.lifetime_remaining != 0:
            found.append(Earnable(action, left))
    return found


async def set_birthday(
    uow: UnitOfWork, clock: Clock, principal: Principal, birthday: date
) -> Member:
    """A member who did not give a birthday on enrolling gives it once; a second time is
    BIRTHDAY_ALREADY_SET (support changes a wrong one)."""
    require_role(principal, Role.MEMBER)
    program = await program_of(uow, principal)
    now = clock.now()
    member = await uow.members.get_by_subject(program.id, principal.subject)
    if member is None:
        raise NotEnrolled("Enroll first.")
    field = _field("birthday")
    valid = validate_birthday(birthday, local_date(now, program.time_zone), field)
    assert valid is not None
    if member.birthday is not None or not await uow.members.set_birthday_once(
        program.id, member.id, valid, now
    ):
        raise BirthdayAlreadySet("Your birthday is on record already.", field)
    await uow.commit()
    member.birthday, member.birthday_set_at = valid, now
    return member

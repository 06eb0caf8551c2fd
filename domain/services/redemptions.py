"""Redeeming rewards, using and cancelling vouchers (paying with points: payments.py).

Every use case here locks the member's wallet before reading what it decides on
(balance, limits), takes stock with a conditional update, and writes ledger entry,
redemption and idempotency record in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from domain import ledger, vouchers
from domain.access import ensure_may_reach_member, require_role
from domain.earning import OrderLine, validate_lines
from domain.errors import (
    CardInvalid,
    DomainError,
    InvalidInput,
    NotEnrolled,
    NotFound,
    OutOfStock,
    VoucherAlreadyUsed,
    VoucherExpired,
    VoucherInvalid,
)
from domain.events import RedemptionChanged
from domain.idempotency import validate_key
from domain.model import EntryKind, Member, Money, Principal, Program, Role, Wallet, new_id
from domain.money import validate_money
from domain.ports import Clock, UnitOfWork
from domain.rewards import (
    Redemption,
    RedemptionCounts,
    RedemptionStatus,
    Reward,
    RewardKind,
    check_available,
    new_voucher_code,
    normalise_voucher_code,
    period_start,
    voucher_expiry,
)
from domain.services.instore import presented_card
from domain.services.partners import settle_redemption
from domain.services.usecase import (
    claim,
    ensure_active,
    ensure_not_flooding,
    locked_wallet,
    member_for,
    program_of,
    record,
    refuse,
    wallet_of,
)
from domain.tiers import current_tier


@dataclass(frozen=True)
class Redeem:
    reward_id: uuid.UUID
    idempotency_key: str
    member_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RedeemResult:
    redemption: Redemption
    wallet: Wallet


async def _acting_member(
    uow: UnitOfWork,
    principal: Principal,
    program: Program,
    member_id: uuid.UUID | None,
    now: datetime,
) -> Member:
    """Members redeem for themselves; staff and admins name the member."""
    field = ("input", "memberId")
    if principal.role is Role.MEMBER:
        member = await uow.members.get_by_subject(program.id, principal.subject)
        if member is None:
            raise NotEnrolled("Enroll first.")
        if member_id is not None and member_id != member.id:
            raise InvalidInput("Members redeem for themselves; leave memberId out.", field)
    else:
        if member_id is None:
            raise InvalidInput("Say which member redeems.", field)
        member = await member_for(uow, principal, program, member_id, field, now)
    return member


async def redeem(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: Redeem
) -> RedeemResult:
    """Spend points on a reward: debit, stock, limits, voucher, all or nothing."""
    require_role(principal, Role.MEMBER, Role.STAFF, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    key = validate_key(command.idempotency_key, ("input", "idempotencyKey"))
    member = await _acting_member(uow, principal, program, command.member_id, now)
    request = {"member": str(member.id), "reward": str(command.reward_id)}
    # Keys are the member's own: another member's key can neither collide nor be probed.
    scope = f"redeem:{member.id.hex}"
    previous = await claim(uow, program, scope, key, request, now, ("input", "idempotencyKey"))
    if previous is not None:
        redemption = await uow.rewards.redemption(program.id, uuid.UUID(previous["redemption"]))
        assert redemption is not None
        return RedeemResult(redemption, await wallet_of(uow, program, member.id))
    ensure_active(member)
    reward = await uow.rewards.get(program.id, command.reward_id)
    if reward is None:
        raise NotFound("No such reward.", ("input", "rewardId"))
    wallet = await locked_wallet(uow, program, member.id)
    # Read after the lock: this member's other redemptions are committed or waiting.
    tiers = await uow.tiers.all(program.id)
    tier = current_tier(tiers, member)
    start = {reward.id: period_start(reward.limit_period, now)}
    counts = (await uow.rewards.counts(program.id, member.id, [reward.id], start)).get(reward.id)
    check_available(reward, tiers, tier, counts or RedemptionCounts(), now)
    redemption = _new_redemption(program, member, reward, now)
    posting = ledger.debit(
        wallet,
        await uow.ledger.open_lots(program.id, member.id),
        reward.points_cost,
        kind=EntryKind.REDEEM,
        now=now,
        description=f"Redeemed: {reward.name}",
        reference=f"redemption:{redemption.id}",
        actor=principal.actor,
    )
    if reward.stock is not None and not await uow.rewards.take_stock(program.id, reward.id):
        raise OutOfStock("This reward is out of stock.", ("input", "rewardId"))
    await uow.ledger.post(posting, previous_version=wallet.version)
    await uow.rewards.add_redemption(redemption, posting.takes)
    await record(uow, principal, program, member, "redeem", now, reward.name)
    uow.record(_changed(redemption, reward))
    await uow.idempotency.complete(program.id, scope, key, {"redemption": str(redemption.id)})
    await uow.commit()
    return RedeemResult(redemption, posting.wallet)


def _changed(redemption: Redemption, reward: Reward | None) -> RedemptionChanged:
    return RedemptionChanged(
        program_id=redemption.program_id,
        member_id=redemption.member_id,
        redemption_id=redemption.id,
        status=redemption.status.value,
        partner_id=reward.partner_id if reward else None,
    )


def _new_redemption(program: Program, member: Member, reward: Reward, now: datetime) -> Redemption:
    donation = reward.kind is RewardKind.DONATION
    return Redemption(
        id=new_id(),
        program_id=program.id,
        member_id=member.id,
        reward_id=reward.id,
        # A donation is final at once: nothing to hand over, nothing to cancel.
        status=RedemptionStatus.USED if donation else RedemptionStatus.ISSUED,
        points_spent=reward.points_cost,
        voucher_code=None if donation else new_voucher_code(),
        created_at=now,
        expires_at=voucher_expiry(reward, now),
        used_at=now if donation else None,
    )


USE_VOUCHER = "use-voucher"  # the audit's action, and the partners' rate limit's


@dataclass(frozen=True)
class UseVoucher:
    code: str
    # The member's card as scanned with the voucher: partners must give it, see use_voucher.
    card_payload: str | None = None
    # The order at the till, when it says: total (program currency) and lines.
    total: Money | None = None
    lines: tuple[OrderLine, ...] = ()


@dataclass(frozen=True)
class VoucherUse:
    redemption: Redemption
    discount: Money | None  # None: not computed (no order given) or no money off goods


def _order(program: Program, command: UseVoucher) -> vouchers.Order:
    total = None
    if command.total is not None:
        total = validate_money(
            command.total.amount_minor, command.total.currency, program.currency, ("input", "total")
        ).amount_minor
    return vouchers.Order(total, validate_lines(command.lines, ("input", "lines")))


async def use_voucher(
    uow: UnitOfWork, clock: Clock, principal: Principal, card_key: bytes, command: UseVoucher
) -> VoucherUse:
    """Staff, admins, and partners for their own rewards: mark a voucher used, once. Given
    the order, the voucher must apply to it (categories, minimum order, free product) and
    the answer says how much it takes off.

    A partner is paid for every voucher of its rewards used, so it must not use one
    without the member: it gives the member's card, scanned from their app with the
    voucher (a fresh one-time code), and the card must be the voucher holder's. Failed
    card checks are audited and rate-limited like the staff's scans.
    """
    require_role(principal, Role.STAFF, Role.ADMIN, Role.PARTNER)
    program = await program_of(uow, principal)
    now = clock.now()
    field = ("input", "code")
    order = _order(program, command)
    normalised = normalise_voucher_code(command.code)
    redemption = (
        await uow.rewards.redemption_by_code(program.id, normalised) if normalised else None
    )
    if redemption is None:
        raise VoucherInvalid("No voucher has this code.", field)
    reward = await uow.rewards.get(program.id, redemption.reward_id)
    if principal.role is Role.PARTNER:
        partner = await uow.rewards.partner_by_slug(program.id, principal.partner or "")
        if partner is None or reward is None or reward.partner_id != partner.id:
            raise VoucherInvalid("No voucher has this code.", field)  # do not reveal others'
    _ensure_usable(redemption, now, field)
    if principal.role is Role.PARTNER:
        await _ensure_holder_present(uow, principal, program, card_key, command, redemption, now)
    off = vouchers.discount(vouchers.terms_of(reward), order) if reward is not None else None
    if not await uow.rewards.mark_used(program.id, redemption.id, now, principal.actor):
        raise VoucherAlreadyUsed("This voucher was just used.", field)
    member = await uow.members.get(program.id, redemption.member_id)
    await record(uow, principal, program, member, USE_VOUCHER, now, normalised)
    used = replace(redemption, status=RedemptionStatus.USED, used_at=now, used_by=principal.actor)
    if reward is not None and reward.partner_id is not None:
        await settle_redemption(uow, program.id, reward.partner_id, redemption.id, now)
    uow.record(_changed(used, reward))
    await uow.commit()
    return VoucherUse(used, Money(off, program.currency) if off is not None else None)


async def _ensure_holder_present(
    uow: UnitOfWork,
    principal: Principal,
    program: Program,
    card_key: bytes,
    command: UseVoucher,
    redemption: Redemption,
    now: datetime,
) -> None:
    field = ("input", "cardPayload")
    if command.card_payload is None:
        raise InvalidInput("Scan the member's card with the voucher.", field)
    await ensure_not_flooding(uow, principal, program, USE_VOUCHER, now)
    try:
        holder = await presented_card(uow, program, card_key, command.card_payload, now, field)
        if holder.id != redemption.member_id:
            raise CardInvalid("This is not the card of the voucher's holder.", field)
    except DomainError as error:
        raise await refuse(uow, principal, program, USE_VOUCHER, error, now) from None


def _ensure_usable(redemption: Redemption, now: datetime, field: tuple[str, ...]) -> None:
    status = redemption.status_at(now)
    if status is RedemptionStatus.USED:
        raise VoucherAlreadyUsed("This voucher was already used.", field)
    if status is RedemptionStatus.CANCELLED:
        raise VoucherInvalid("This voucher was cancelled.", field)
    if status is RedemptionStatus.EXPIRED:
        raise VoucherExpired("This voucher has expired.", field)


async def cancel_redemption(
    uow: UnitOfWork, clock: Clock, principal: Principal, redemption_id: uuid.UUID
) -> RedeemResult:
    """Give an unused voucher back: points return with their original expiry, stock too."""
    require_role(principal, Role.MEMBER, Role.STAFF, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    field = ("input", "redemptionId")
    redemption = await uow.rewards.redemption(program.id, redemption_id)
    member = await uow.members.get(program.id, redemption.member_id) if redemption else None
    hidden = NotFound("No such redemption.", field)
    if redemption is None or member is None:
        raise hidden
    await ensure_may_reach_member(uow, principal, member, now, hidden)
    wallet = await locked_wallet(uow, program, member.id)
    _ensure_usable(redemption, now, field)
    if not await uow.rewards.mark_cancelled(program.id, redemption.id, now):
        raise VoucherAlreadyUsed("This voucher was just used or cancelled.", field)
    reward = await uow.rewards.get(program.id, redemption.reward_id)
    name = reward.name if reward else "reward"
    if redemption.points_spent:  # a voucher given for nothing (a referral's) gives back none
        portions = await uow.rewards.takes(program.id, redemption.id) or [
            (redemption.points_spent, None)
        ]
        posting = ledger.credit_portions(
            wallet,
            portions,
            kind=EntryKind.REDEEM,
            now=now,
            description=f"Cancelled: {name}",
            reference=f"redemption:{redemption.id}:cancel",
            actor=principal.actor,
        )
        await uow.ledger.post(posting, previous_version=wallet.version)
        wallet = posting.wallet
    await uow.rewards.return_stock(program.id, redemption.reward_id)
    await record(uow, principal, program, member, "cancel-redemption", now, name)
    cancelled = replace(redemption, status=RedemptionStatus.CANCELLED, cancelled_at=now)
    uow.record(_changed(cancelled, reward))
    await uow.commit()
    return RedeemResult(cancelled, wallet)

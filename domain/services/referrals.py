"""Referrals that pay: the referee's welcome at enrollment, the referrer's points when the
referee's first qualifying purchase is past its hold, milestones, and admin review.

Race safety: a referral's status moves only by conditional updates (`expected` status),
under the referral row's lock, and its points are posted in that same transaction, so two
first purchases (or a purchase and the jobs runner) pay the referrer once. Milestones are
unique per referrer and count. Lock order: the wallet of the member acting (referee),
then the referral, then the referrer's wallet; a referrer always enrolled before their
referee, so these chains never close into a cycle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain import ledger
from domain.access import require_role
from domain.contact import clean_text
from domain.errors import NotFound, ReferralInvalid, ReferralNotHeld
from domain.events import RedemptionChanged
from domain.model import EntryKind, Member, Principal, Program, Role, new_id
from domain.ports import UnitOfWork
from domain.referrals import (
    Milestone,
    Referral,
    ReferralReason,
    ReferralSettings,
    ReferralStatus,
    SignalKind,
    clean_signal,
    due_milestones,
    initial_status,
    next_milestone,
    same_person,
    signal_hash,
    validate_settings,
)
from domain.rewards import Redemption, RedemptionStatus, new_voucher_code, voucher_expiry
from domain.services.usecase import locked_wallet, program_of, upgrade_if_reached
from domain.times import Period, period_bounds

SYSTEM = "system:referrals"


async def update_settings(
    uow: UnitOfWork, now: datetime, principal: Principal, settings: ReferralSettings
) -> ReferralSettings:
    """Admins set the program's referral rules; rewards named must be the program's."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    field = ("input",)
    settings = validate_settings(settings, field)
    wanted = [(("input", "welcomeRewardId"), settings.welcome_reward_id)] + [
        (("input", "milestones", str(i), "rewardId"), m.reward_id)
        for i, m in enumerate(settings.milestones)
    ]
    for at, reward_id in wanted:
        if reward_id is not None and await uow.rewards.get(program.id, reward_id) is None:
            raise NotFound("No such reward.", at)
    await uow.referrals.save_settings(program.id, settings, now)
    await uow.commit()
    return settings


async def referrer_for(
    uow: UnitOfWork,
    program: Program,
    code: str | None,
    email: str | None,
    phone: str | None,
) -> Member | None:
    """The member whose referral code this is: REFERRAL_INVALID if it is nobody's, or the
    new member's own (same normalised email or E.164 phone). A blocked referrer is found:
    the referral is recorded VOID."""
    if code is None:
        return None
    field = ("input", "referralCode")
    referrer = await uow.members.get_by_referral_code(program.id, code.upper())
    if referrer is None:
        raise ReferralInvalid("This referral code is not valid.", field)
    settings = await uow.referrals.settings(program.id)
    domains = settings.normalised_domains
    if same_person(email, phone, referrer.email, referrer.phone, domains):
        raise ReferralInvalid("You cannot refer yourself.", field)
    return referrer


def device_of(device_id: str | None) -> str | None:
    """The app's device id as checked: INVALID_INPUT on `deviceId` when malformed."""
    return clean_signal(device_id, ("input", "deviceId"))


async def on_enrolled(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    referrer: Member | None,
    device_id: str | None,
    now: datetime,
) -> Referral | None:
    """In the enrollment's transaction: remember the device, record the referral (capped,
    void or held as the rules say) and pay the referee's welcome when it is pending."""
    digest = signal_hash(device_id) if device_id else None
    if digest is not None:
        await uow.referrals.add_signal(program.id, member.id, SignalKind.DEVICE, digest, now)
    if referrer is None:
        return None
    settings = await uow.referrals.settings(program.id)
    over_cap = False
    if settings.monthly_cap is not None:
        # The referrer's wallet serialises their referrals: two friends enrolling at once
        # cannot both slip under the monthly cap.
        await locked_wallet(uow, program, referrer.id)
        start, _ = period_bounds(now, Period.MONTH, program.time_zone)
        made = await uow.referrals.counted_since(program.id, referrer.id, start)
        over_cap = made >= settings.monthly_cap
    same_device = digest is not None and await uow.referrals.has_signal(
        program.id, referrer.id, SignalKind.DEVICE, digest
    )
    status, reason = initial_status(
        referrer_blocked=referrer.blocked, over_cap=over_cap, same_device=same_device
    )
    referral = Referral(
        id=new_id(),
        program_id=program.id,
        referrer_id=referrer.id,
        referee_id=member.id,
        status=status,
        reason=reason,
        created_at=now,
    )
    if status is ReferralStatus.PENDING:
        await _pay_welcome(uow, program, settings, referral, now)
    await uow.referrals.add(referral)
    return referral


async def _pay_welcome(
    uow: UnitOfWork,
    program: Program,
    settings: ReferralSettings,
    referral: Referral,
    now: datetime,
) -> None:
    """The referee's welcome: points, and/or the welcome reward as a free voucher."""
    referral.welcome_paid = True
    if settings.welcome_points:
        await _credit(
            uow,
            program,
            referral.referee_id,
            settings.welcome_points,
            "Welcome: referred by a friend",
            f"referral:{referral.id}:welcome",
            now,
        )
    if settings.welcome_reward_id is not None:
        await _issue_voucher(uow, program, referral.referee_id, settings.welcome_reward_id, now)


async def _credit(
    uow: UnitOfWork,
    program: Program,
    member_id: uuid.UUID,
    points: int,
    description: str,
    reference: str,
    now: datetime,
) -> None:
    wallet = await locked_wallet(uow, program, member_id)
    posting = ledger.credit(
        wallet,
        points,
        kind=EntryKind.REFERRAL,
        now=now,
        description=description,
        reference=reference,
        actor=SYSTEM,
        expires_at=ledger.lot_expiry(program.policy, now, program.time_zone),
    )
    await uow.ledger.post(posting, previous_version=wallet.version)
    # Referral points qualify for tiers like any earning: they may lift the member now.
    member = await uow.members.get(program.id, member_id)
    if member is not None:
        await upgrade_if_reached(uow, program, member, await uow.tiers.all(program.id), now)


async def _issue_voucher(
    uow: UnitOfWork, program: Program, member_id: uuid.UUID, reward_id: uuid.UUID, now: datetime
) -> None:
    """A reward given, not bought: a voucher for no points. None when the reward is gone
    or out of stock (the points, if any, are still paid)."""
    reward = await uow.rewards.get(program.id, reward_id)
    if reward is None or reward.archived:
        return
    if reward.stock is not None and not await uow.rewards.take_stock(program.id, reward.id):
        return
    redemption = Redemption(
        id=new_id(),
        program_id=program.id,
        member_id=member_id,
        reward_id=reward.id,
        status=RedemptionStatus.ISSUED,
        points_spent=0,
        voucher_code=new_voucher_code(),
        created_at=now,
        expires_at=voucher_expiry(reward, now),
    )
    await uow.rewards.add_redemption(redemption, [])
    uow.record(
        RedemptionChanged(
            program_id=program.id,
            member_id=member_id,
            redemption_id=redemption.id,
            status=redemption.status.value,
            partner_id=reward.partner_id,
        )
    )


def fingerprint_of(value: str | None) -> str | None:
    """The shop's payment fingerprint as checked: INVALID_INPUT on `paymentFingerprint`."""
    return clean_signal(value, ("input", "paymentFingerprint"))


async def after_purchase(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    fingerprint: str | None,
    now: datetime,
) -> None:
    """In a purchase's transaction (the buyer's wallet locked): remember the payment
    fingerprint, hold the buyer's referral when it matches the referrer's, else pay the
    referrer if this purchase (or an earlier one) now qualifies."""
    digest = signal_hash(fingerprint) if fingerprint else None
    if digest is not None:
        await uow.referrals.add_signal(program.id, member.id, SignalKind.PAYMENT, digest, now)
    if member.referred_by is None:
        return
    referral = await uow.referrals.of_referee(program.id, member.id, lock=True)
    if referral is None or referral.status is not ReferralStatus.PENDING:
        return
    if digest is not None and await uow.referrals.has_signal(
        program.id, referral.referrer_id, SignalKind.PAYMENT, digest
    ):
        held = replace(
            referral, status=ReferralStatus.HELD_FOR_REVIEW, reason=ReferralReason.SAME_PAYMENT
        )
        await uow.referrals.update(held, ReferralStatus.PENDING)
        return
    await _qualify(uow, program, referral, now)


async def qualify_referee(
    uow: UnitOfWork, program: Program, referee_id: uuid.UUID, now: datetime
) -> bool:
    """The jobs runner, after releasing held points: pay the referrer of `referee_id` if a
    purchase of theirs now qualifies. True when it did (the caller commits)."""
    referral = await uow.referrals.of_referee(program.id, referee_id, lock=True)
    if referral is None or referral.status is not ReferralStatus.PENDING:
        return False
    return await _qualify(uow, program, referral, now)


class QualifyReferrals:
    """After the release job: pay referrers whose referee's first qualifying purchase was
    just released. One referral per batch (transaction), so a runner never holds the
    wallets of several referrers at once while purchases lock theirs."""

    name = "qualify-referrals"

    def applies(self, program: Program) -> bool:
        return True

    async def run_batch(
        self,
        uow: UnitOfWork,
        batches: object,
        program: Program,
        now: datetime,
        after: uuid.UUID | None,
        limit: int,
        report: Any,
    ) -> uuid.UUID | None:
        settings = await uow.referrals.settings(program.id)
        due = await uow.referrals.due(program.id, settings.min_purchase_minor, limit=1, after=after)
        if not due:
            return None
        if await qualify_referee(uow, program, due[0], now):
            report.referrals_qualified += 1
        return due[0]


async def _qualifying_order(
    uow: UnitOfWork, program: Program, settings: ReferralSettings, referee_id: uuid.UUID
) -> str | None:
    """The referee's first purchase of at least the minimum after refunds whose points are
    no longer held (hold 0: at once; else once the jobs released them)."""
    candidates = await uow.referrals.qualifying_purchases(
        program.id, referee_id, settings.min_purchase_minor
    )
    for order_id, entry_ids in candidates:
        lots = await uow.ledger.lots_of_entries(program.id, list(entry_ids))
        if not any(lot.held for lot in lots):
            return order_id
    return None


async def _qualify(uow: UnitOfWork, program: Program, referral: Referral, now: datetime) -> bool:
    """PENDING -> QUALIFIED (referrer paid) when a purchase qualifies; PENDING -> VOID when
    the referrer was blocked meanwhile. Expects the referral row locked."""
    settings = await uow.referrals.settings(program.id)
    order_id = await _qualifying_order(uow, program, settings, referral.referee_id)
    if order_id is None:
        return False
    referrer = await uow.members.get(program.id, referral.referrer_id)
    if referrer is None or referrer.blocked:
        void = replace(referral, status=ReferralStatus.VOID, reason=ReferralReason.REFERRER_BLOCKED)
        await uow.referrals.update(void, ReferralStatus.PENDING)
        return False
    qualified = replace(
        referral,
        status=ReferralStatus.QUALIFIED,
        qualified_at=now,
        order_id=order_id,
        referrer_points=settings.referrer_points,
    )
    if not await uow.referrals.update(qualified, ReferralStatus.PENDING):
        return False  # another transaction qualified it first
    if settings.referrer_points:
        await _credit(
            uow,
            program,
            referrer.id,
            settings.referrer_points,
            "Referral: a friend's first purchase",
            f"referral:{referral.id}",
            now,
        )
    await _pay_milestones(uow, program, settings, referrer.id, now)
    return True


async def _pay_milestones(
    uow: UnitOfWork,
    program: Program,
    settings: ReferralSettings,
    referrer_id: uuid.UUID,
    now: datetime,
) -> list[Milestone]:
    if not settings.milestones:
        return []
    successful = await uow.referrals.qualified_count(program.id, referrer_id)
    paid = await uow.referrals.milestones_paid(program.id, referrer_id)
    done = []
    for milestone in due_milestones(settings.milestones, successful, paid):
        if not await uow.referrals.add_milestone(program.id, referrer_id, milestone.count, now):
            continue  # paid by a concurrent qualification
        if milestone.points:
            await _credit(
                uow,
                program,
                referrer_id,
                milestone.points,
                f"Referral milestone: {milestone.count} friends",
                f"referral-milestone:{milestone.count}",
                now,
            )
        if milestone.reward_id is not None:
            await _issue_voucher(uow, program, referrer_id, milestone.reward_id, now)
        done.append(milestone)
    return done


@dataclass(frozen=True)
class Progress:
    successful: int
    next: Milestone | None


async def _held(
    uow: UnitOfWork, program: Program, referral_id: uuid.UUID, statuses: tuple[ReferralStatus, ...]
) -> Referral:
    referral = await uow.referrals.get(program.id, referral_id, lock=True)
    if referral is None:
        raise NotFound("No such referral.", ("input", "referralId"))
    if referral.status not in statuses:
        raise ReferralNotHeld(f"This referral is {referral.status.value}.", ("input", "referralId"))
    return referral


async def approve(
    uow: UnitOfWork, now: datetime, principal: Principal, referral_id: uuid.UUID
) -> Referral:
    """Admins clear a held referral: the referee's welcome is paid, and the referrer's
    points too if a qualifying purchase has landed meanwhile."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    referee_id = await _referee_of(uow, program, referral_id)
    # Lock order as in a purchase: the referee's wallet, then the referral.
    await locked_wallet(uow, program, referee_id)
    referral = await _held(uow, program, referral_id, (ReferralStatus.HELD_FOR_REVIEW,))
    settings = await uow.referrals.settings(program.id)
    pending = replace(referral, status=ReferralStatus.PENDING, reason=None)
    if not pending.welcome_paid:
        await _pay_welcome(uow, program, settings, pending, now)
    await uow.referrals.update(pending, ReferralStatus.HELD_FOR_REVIEW)
    await _qualify(uow, program, pending, now)
    await uow.commit()
    found = await uow.referrals.get(program.id, referral_id)
    assert found is not None
    return found


async def reject(
    uow: UnitOfWork, now: datetime, principal: Principal, referral_id: uuid.UUID, note: str | None
) -> Referral:
    """Admins refuse a held or pending referral: it never pays."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    text = clean_text(note, ("input", "note"), max_length=500)
    referee_id = await _referee_of(uow, program, referral_id)
    await locked_wallet(uow, program, referee_id)
    referral = await _held(
        uow, program, referral_id, (ReferralStatus.HELD_FOR_REVIEW, ReferralStatus.PENDING)
    )
    rejected = replace(
        referral, status=ReferralStatus.REJECTED, reason=ReferralReason.REJECTED_BY_ADMIN, note=text
    )
    await uow.referrals.update(rejected, referral.status)
    await uow.commit()
    return rejected


async def _referee_of(uow: UnitOfWork, program: Program, referral_id: uuid.UUID) -> uuid.UUID:
    referral = await uow.referrals.get(program.id, referral_id)
    if referral is None:
        raise NotFound("No such referral.", ("input", "referralId"))
    return referral.referee_id


async def my_referrals(
    uow: UnitOfWork,
    program_id: uuid.UUID,
    member_id: uuid.UUID,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> list[tuple[Referral, str | None]]:
    """A referrer's referrals, newest first, with each referee's display name."""
    return await uow.referrals.of_referrer(program_id, member_id, limit=limit, before=before)


async def progress(uow: UnitOfWork, program_id: uuid.UUID, member_id: uuid.UUID) -> Progress:
    """Successful referrals so far and the next milestone on the program's ladder."""
    settings = await uow.referrals.settings(program_id)
    successful = await uow.referrals.qualified_count(program_id, member_id)
    return Progress(successful, next_milestone(settings.milestones, successful))


async def for_review(
    uow: UnitOfWork,
    principal: Principal,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[Referral]:
    """Admins: referrals held for review, oldest first."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    return await uow.referrals.for_review(program.id, limit=limit, after=after)

"""Ledger rules without a database, including a property test over random sequences."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import ledger
from domain.errors import InsufficientPoints, InvalidInput, LimitReached
from domain.model import EntryKind, LedgerEntry, Lot, Wallet, new_id

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@dataclass
class Book:
    """An in-memory wallet, its lots and entries, applying postings like the repository."""

    wallet: Wallet = field(default_factory=lambda: Wallet(program_id=new_id(), member_id=new_id()))
    lots: list[Lot] = field(default_factory=list)
    entries: list[LedgerEntry] = field(default_factory=list)

    def apply(self, posting: ledger.Posting) -> None:
        assert posting.entry.version == self.wallet.version + 1
        self.lots = ledger.apply_takes(self.lots, posting.takes)
        self.lots.extend(posting.new_lots)
        self.entries.append(posting.entry)
        self.wallet = posting.wallet

    def credit(self, points: int, expires_at: datetime | None = None) -> None:
        self.apply(
            ledger.credit(
                self.wallet,
                points,
                kind=EntryKind.EARN,
                now=NOW,
                description="test",
                reference="t",
                actor="test",
                expires_at=expires_at,
            )
        )

    def debit(self, points: int, kind: EntryKind = EntryKind.REDEEM) -> None:
        self.apply(
            ledger.debit(
                self.wallet,
                self.lots,
                points,
                kind=kind,
                now=NOW,
                description="test",
                reference="t",
                actor="test",
                allow_negative=kind is EntryKind.REVERSAL,
            )
        )

    def check(self) -> None:
        debt = max(0, -self.wallet.balance)
        assert self.wallet.balance == sum(e.points for e in self.entries)
        assert self.wallet.balance == sum(lot.remaining for lot in self.lots) - debt
        assert all(0 <= lot.remaining <= lot.points for lot in self.lots)
        assert self.wallet.version == len(self.entries)
        if self.entries:
            assert self.entries[-1].balance_after == self.wallet.balance


def test_debits_take_soonest_expiring_lots_first_and_never_expiring_last() -> None:
    book = Book()
    book.credit(100)  # never expires
    book.credit(50, expires_at=NOW + timedelta(days=300))
    book.credit(30, expires_at=NOW + timedelta(days=10))
    book.debit(60)
    remaining = {lot.points: lot.remaining for lot in book.lots}
    assert remaining == {30: 0, 50: 20, 100: 100}
    book.check()


def test_a_debit_beyond_the_balance_is_refused() -> None:
    book = Book()
    book.credit(10)
    with pytest.raises(InsufficientPoints):
        book.debit(11)
    book.check()


def test_a_reversal_may_go_negative_and_later_credits_repay_it_first() -> None:
    book = Book()
    book.credit(100)
    book.debit(80)
    book.debit(50, kind=EntryKind.REVERSAL)
    assert book.wallet.balance == -30
    book.credit(40)
    assert book.wallet.balance == 10
    assert sum(lot.remaining for lot in book.lots) == 10
    book.check()


@pytest.mark.parametrize("points", [0, -5, ledger.MAX_POINTS_PER_CHANGE + 1])
def test_zero_negative_and_absurd_changes_are_refused(points: int) -> None:
    with pytest.raises(InvalidInput):
        Book().credit(points)


def test_no_wallet_grows_beyond_what_the_api_can_carry() -> None:
    book = Book()
    book.credit(ledger.MAX_POINTS_PER_CHANGE)
    book.credit(ledger.MAX_POINTS_PER_CHANGE)
    with pytest.raises(LimitReached):
        book.credit(1)


def _held(book: Book, points: int, kind: EntryKind = EntryKind.EARN) -> None:
    book.apply(
        ledger.credit(
            book.wallet,
            points,
            kind=kind,
            now=NOW,
            description="held",
            reference="h",
            actor="test",
            available_at=NOW + timedelta(days=14),
        )
    )


@pytest.mark.parametrize("later_held", [True, False])
def test_pending_points_count_against_the_maximum(later_held: bool) -> None:
    # given 1e9 spendable and 1e9 pending: the wallet is full once they are released
    book = Book()
    book.credit(ledger.MAX_POINTS_PER_CHANGE)
    _held(book, ledger.MAX_POINTS_PER_CHANGE)
    # then another point is refused, held or spendable, earned or given back
    with pytest.raises(LimitReached):
        if later_held:
            _held(book, 1, EntryKind.ADJUST)
        else:
            book.credit(1)
    with pytest.raises(LimitReached):
        ledger.credit_portions(
            book.wallet,
            [(1, None)],
            kind=EntryKind.REDEEM,
            now=NOW,
            description="cancelled",
            reference="c",
            actor="test",
        )


def test_the_release_keeps_pending_the_lots_that_would_not_fit() -> None:
    """A wallet from before pending points counted: releasing every due lot would pass the
    maximum. The oldest lots that fit are released; the rest stay pending, not capped."""
    book = Book()
    for points in (400_000_000, 300_000_000):
        _held(book, points)
    book.wallet = replace(book.wallet, balance=1_500_000_000)  # written by an older version
    released = ledger.release(book.wallet, book.lots, NOW + timedelta(days=15))
    assert released is not None
    assert released.points == 400_000_000
    assert list(released.released.values()) == [400_000_000]
    assert (released.wallet.balance, released.wallet.pending) == (1_900_000_000, 300_000_000)
    # nothing fits at all: nothing to release
    full = replace(book.wallet, balance=ledger.MAX_BALANCE)
    assert ledger.release(full, book.lots, NOW + timedelta(days=15)) is None


operations = st.lists(
    st.tuples(
        st.sampled_from(["earn", "earn-expiring", "redeem", "adjust-down", "reverse"]),
        st.integers(min_value=1, max_value=5_000),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_any_sequence_keeps_balance_equal_to_entries_and_lots(ops: list) -> None:
    book = Book()
    for n, (op, points) in enumerate(ops):
        if op == "earn":
            book.credit(points)
        elif op == "earn-expiring":
            book.credit(points, expires_at=NOW + timedelta(days=n % 7))
        elif op in ("redeem", "adjust-down"):
            kind = EntryKind.REDEEM if op == "redeem" else EntryKind.ADJUST
            before = book.wallet.balance
            try:
                book.debit(points, kind)
            except InsufficientPoints:
                assert before < points
            else:
                assert book.wallet.balance >= 0
        else:
            book.debit(points, kind=EntryKind.REVERSAL)
        book.check()


def test_which_lots_expire_under_each_policy() -> None:
    from domain.model import ExpiryPolicy, PointsPolicy

    book = Book()
    book.credit(100, expires_at=NOW - timedelta(seconds=1))
    book.credit(50, expires_at=NOW + timedelta(days=1))
    book.credit(30)
    after_earning = PointsPolicy(expiry=ExpiryPolicy.AFTER_EARNING)
    assert [lot.points for lot in ledger.expired_lots(book.lots, after_earning, NOW)] == [100]
    idle = PointsPolicy(expiry=ExpiryPolicy.INACTIVITY)
    assert sorted(lot.points for lot in ledger.expired_lots(book.lots, idle, NOW)) == [30, 50, 100]
    assert ledger.expired_lots(book.lots, PointsPolicy(), NOW) == []

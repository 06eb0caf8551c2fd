"""Stateful property test of the ledger against the real database layer (SQLite):
earn, redeem, cancel, refund and adjust in any order.

Hypothesis drives random sequences of use cases through SqlUnitOfWork and checks
them against a simple model after every step: balances, lots and entries agree.
`LOYALTY_STATEFUL_EXAMPLES=2000 pytest tests/reliability` runs it longer by hand.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from api.runtime import Runtime
from api.settings import Settings
from domain.earning import refund_reversal
from domain.errors import InsufficientPoints
from domain.model import Principal, Role
from domain.rewards import RewardKind
from domain.services import catalog, members, points, programs, purchases, redemptions, refunds
from persistence.migrate import upgrade
from tests.support import MovableClock, ledger_totals

EXAMPLES = int(os.environ.get("LOYALTY_STATEFUL_EXAMPLES", "25"))
MEMBERS = 3
COST = 150
_template: list[Path] = []


def migrated_copy(folder: Path) -> str:
    """A freshly migrated SQLite file: migrated once, then copied for every example."""
    if not _template:
        folder_of_template = Path(tempfile.mkdtemp())
        atexit.register(shutil.rmtree, folder_of_template, ignore_errors=True)
        template = folder_of_template / "template.db"
        upgrade(f"sqlite:///{template}")
        _template.append(template)
    folder.mkdir(parents=True)
    shutil.copy(_template[0], folder / "ledger.db")
    return f"sqlite:///{folder / 'ledger.db'}"


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.gettempdir()) / f"ledger-sm-{uuid.uuid4().hex}"
        url = migrated_copy(self.folder)
        self.runtime = Runtime.from_settings(
            Settings(database_url=url, jwt_secret="x", _env_file=None), clock=MovableClock()
        )
        self.admin = Principal(role=Role.ADMIN, program_slug="sm", subject="admin")
        self.expected: dict[uuid.UUID, int] = {}
        self.orders = 0
        # order id -> [member, amount, earned, refunded]
        self.purchases: dict[str, list] = {}  # type: ignore[type-arg]
        self.issued: list[tuple[uuid.UUID, uuid.UUID]] = []  # (member, redemption)
        self.reward_id: uuid.UUID | None = None

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    @initialize()
    def create_members(self) -> None:
        async def setup() -> None:
            async with self.runtime.uow() as uow:
                await programs.create_program(
                    uow, self.runtime.clock, slug="sm", name="SM", currency="EUR"
                )
            for n in range(MEMBERS):
                principal = Principal(role=Role.MEMBER, program_slug="sm", subject=f"m{n}")
                async with self.runtime.uow() as uow:
                    member = await members.enroll(
                        uow, self.runtime.clock, principal, members.Enrollment()
                    )
                self.expected[member.id] = 0
            async with self.runtime.uow() as uow:
                reward = await catalog.create_reward(
                    uow,
                    self.runtime.clock,
                    self.admin,
                    RewardKind.FREE_SHIPPING,
                    catalog.RewardFields(name="Shipping", points_cost=COST),
                )
            self.reward_id = reward.id

        self.run(setup())

    def member(self, index: int) -> uuid.UUID:
        return list(self.expected)[index % MEMBERS]

    @rule(who=st.integers(0, MEMBERS - 1), amount=st.integers(1, 50_000), retry=st.booleans())
    def purchase(self, who: int, amount: int, retry: bool) -> None:
        member_id = self.member(who)
        self.orders += 1
        command = purchases.RecordPurchase(member_id, f"o-{self.orders}", amount, "EUR")
        for _ in range(2 if retry else 1):  # a retry must not credit twice
            result = self.run(self._purchase(command))
        self.expected[member_id] += result.points_earned
        assert result.points_earned == amount * 10 // 100
        self.purchases[command.order_id] = [member_id, amount, result.points_earned, 0]

    async def _purchase(self, command: purchases.RecordPurchase) -> purchases.PurchaseResult:
        async with self.runtime.uow() as uow:
            return await purchases.record_purchase(uow, self.runtime.clock, self.admin, command)

    @rule(who=st.integers(0, MEMBERS - 1), delta=st.integers(-3_000, 3_000).filter(bool))
    def adjust(self, who: int, delta: int) -> None:
        member_id = self.member(who)
        command = points.AdjustPoints(member_id, delta, "state machine", uuid.uuid4().hex)

        async def apply() -> None:
            async with self.runtime.uow() as uow:
                await points.adjust_points(uow, self.runtime.clock, self.admin, command)

        try:
            self.run(apply())
        except InsufficientPoints:
            assert self.expected[member_id] + delta < 0
        else:
            self.expected[member_id] += delta

    @rule(who=st.integers(0, MEMBERS - 1))
    def redeem(self, who: int) -> None:
        member_id = self.member(who)
        assert self.reward_id is not None
        command = redemptions.Redeem(self.reward_id, uuid.uuid4().hex, member_id)

        async def apply() -> redemptions.RedeemResult:
            async with self.runtime.uow() as uow:
                return await redemptions.redeem(uow, self.runtime.clock, self.admin, command)

        try:
            result = self.run(apply())
        except InsufficientPoints:
            assert self.expected[member_id] < COST
        else:
            self.expected[member_id] -= COST
            self.issued.append((member_id, result.redemption.id))

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        if not self.issued:
            return
        member_id, redemption_id = self.issued.pop(data.draw(st.integers(0, len(self.issued) - 1)))

        async def apply() -> None:
            async with self.runtime.uow() as uow:
                await redemptions.cancel_redemption(
                    uow, self.runtime.clock, self.admin, redemption_id
                )

        self.run(apply())
        self.expected[member_id] += COST

    @rule(data=st.data(), share=st.integers(1, 100))
    def refund(self, data: st.DataObject, share: int) -> None:
        open_orders = [o for o, p in self.purchases.items() if p[3] < p[1]]
        if not open_orders:
            return
        order_id = data.draw(st.sampled_from(open_orders))
        member_id, amount, earned, refunded = self.purchases[order_id]
        cut = max(1, (amount - refunded) * share // 100)
        command = refunds.RefundPurchase(order_id, cut, "EUR", uuid.uuid4().hex)

        async def apply() -> refunds.RefundResult:
            async with self.runtime.uow() as uow:
                return await refunds.refund_purchase(uow, self.runtime.clock, self.admin, command)

        result = self.run(apply())
        assert result.points_reversed == refund_reversal(earned, amount, refunded, cut)
        self.purchases[order_id][3] += cut
        self.expected[member_id] -= result.points_reversed

    @invariant()
    def ledger_agrees_with_the_model(self) -> None:
        if not self.expected:
            return
        self.run(self._check())

    async def _check(self) -> None:
        for member_id, balance in self.expected.items():
            totals = await ledger_totals(self.runtime, member_id)
            assert totals.consistent(), totals
            assert totals.balance == balance

    def teardown(self) -> None:
        self.run(self.runtime.db.dispose())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)


LedgerMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ledger_state_machine = LedgerMachine.TestCase

"""The demo program `loyalty demo` seeds: tiers, members with some history. Idempotent."""

from __future__ import annotations

import uuid
from datetime import date

from api.runtime import Runtime
from domain.model import Principal, Role
from domain.services import members, points, programs, purchases

DEMO = "demo"
DEMO_MEMBERS = [
    ("alice", "Alice Example", "alice@example.com", "+4915123456789", date(1990, 5, 17)),
    ("bob", "Bob Example", "bob@example.com", None, None),
    ("carol", "Carol Example", None, "+31612345678", date(1985, 11, 2)),
]
DEMO_PURCHASES = [("alice", 12_500), ("alice", 4_990), ("bob", 2_000), ("carol", 89_900)]


async def seed_demo(runtime: Runtime) -> bool:
    """Create the demo program unless it exists; True when something was created."""
    clock = runtime.clock
    async with runtime.reader() as uow:
        if await uow.programs.get_by_slug(DEMO) is not None:
            return False
    async with runtime.uow() as uow:
        await programs.create_program(uow, clock, slug=DEMO, name="Demo Coffee", currency="EUR")
    admin = Principal(role=Role.ADMIN, program_slug=DEMO, subject="demo-seed")
    async with runtime.uow() as uow:
        await programs.update_program(uow, admin, programs.ProgramChanges(points_name="beans"))
    for name, threshold, multiplier, perks in [
        ("Silver", 1_000, 1.25, ("Free refill",)),
        ("Gold", 5_000, 1.5, ("Free refill", "Early access to new blends")),
    ]:
        async with runtime.uow() as uow:
            await programs.create_tier(
                uow, runtime.clock, admin, programs.NewTier(name, threshold, multiplier, perks)
            )
    ids: dict[str, uuid.UUID] = {}
    for subject, display, email, phone, birthday in DEMO_MEMBERS:
        principal = Principal(role=Role.MEMBER, program_slug=DEMO, subject=subject)
        async with runtime.uow() as uow:
            member = await members.enroll(
                uow,
                clock,
                principal,
                members.Enrollment(display, email, phone, birthday),
            )
        ids[subject] = member.id
    for n, (subject, amount) in enumerate(DEMO_PURCHASES, start=1):
        async with runtime.uow() as uow:
            await purchases.record_purchase(
                uow,
                clock,
                admin,
                purchases.RecordPurchase(ids[subject], f"demo-{n}", amount, "EUR"),
            )
    async with runtime.uow() as uow:
        await points.adjust_points(
            uow,
            clock,
            admin,
            points.AdjustPoints(ids["bob"], 50, "Welcome gift", "demo-welcome-bob"),
        )
    return True

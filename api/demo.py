"""The demo program `loyalty demo` seeds: a complete little program to try every screen with.

Tiers, members with history, category rules, a running campaign, rewards of every kind, a
partner with a co-branded reward and a voucher in Alice's wallet. Idempotent: a program
that exists already is left alone. The catalog, partner and campaign are created through
the public GraphQL API, as a brand's back office would.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from api.runtime import Runtime
from domain.earning import OrderLine
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
    await _seed_catalog(runtime, admin)
    await seed_challenges(runtime, admin, ids["carol"])
    await seed_actions(runtime, admin)
    await seed_referrals(runtime, admin)
    await seed_leaderboard(runtime, admin)
    return True


class DemoSeedError(RuntimeError):
    """A seeding call through the API answered an error (a bug in the demo)."""


async def _call(runtime: Runtime, principal: Principal, document: str, **variables: Any) -> Any:
    from api.context import Context
    from api.schema import schema

    context = Context(runtime=runtime, principal=principal)
    try:
        result = await schema.execute(document, variable_values=variables, context_value=context)
    finally:
        await context.finish()
    if result.errors:
        raise DemoSeedError(str(result.errors[0]))
    payload = next(iter((result.data or {}).values()))
    if payload.get("errors"):
        raise DemoSeedError(str(payload["errors"]))
    return payload


async def _seed_catalog(runtime: Runtime, admin: Principal) -> None:
    """Earning rules, a campaign, rewards of every kind, a partner, one issued voucher."""
    now = runtime.clock.now()
    await _call(
        runtime,
        admin,
        """mutation($input: UpdateProgramInput!) { updateProgram(input: $input) {
            errors { code field message } } }""",
        input={
            "pointValue": {"points": 100, "valueMinor": 100, "minPoints": 100},
            "earnRules": {
                "categoryMultipliers": [
                    {"category": "beans", "multiplier": 2},
                    {"category": "gift-cards", "multiplier": 0},
                ],
                "bonusThresholdMinor": 10_000,
                "bonusPoints": 100,
            },
        },
    )
    await _call(
        runtime,
        admin,
        """mutation($input: CreateCampaignInput!) { createCampaign(input: $input) {
            errors { code field message } } }""",
        input={
            "name": "Winter warmers 2x",
            "startsAt": (now - timedelta(days=1)).isoformat(),
            "endsAt": (now + timedelta(days=60)).isoformat(),
            "multiplier": 2.0,
            "categories": ["drinks"],
        },
    )
    create_reward = """mutation($input: CreateRewardInput!) { createReward(input: $input) {
        reward { id } errors { code field message } } }"""
    reward_ids: dict[str, str] = {}
    for reward in DEMO_REWARDS:
        payload = await _call(runtime, admin, create_reward, input=reward)
        reward_ids[reward["name"]] = payload["reward"]["id"]
    partner = await _call(
        runtime,
        admin,
        """mutation { createPartner(input: {slug: "cinema", name: "Cinema City"}) {
            partner { id } errors { code field message } } }""",
    )
    partner_id = partner["partner"]["id"]
    await _call(
        runtime,
        admin,
        """mutation($id: ID!) { updatePartnerTerms(input: {partnerId: $id,
            earnRate: {points: 5, perAmountMinor: 100}, pricePer100PointsMinor: 50,
            payoutPerRedemptionMinor: 300}) { errors { code field message } } }""",
        id=partner_id,
    )
    await _call(
        runtime,
        admin,
        create_reward,
        input={
            "name": "Cinema City ticket",
            "description": "One 2D film ticket at any Cinema City.",
            "kind": "EXPERIENCE",
            "pointsCost": 800,
            "partnerId": partner_id,
            "voucherValidDays": 60,
        },
    )
    alice = Principal(role=Role.MEMBER, program_slug=DEMO, subject="alice")
    await _call(
        runtime,
        alice,
        """mutation($id: ID!) { redeemReward(input: {rewardId: $id,
            idempotencyKey: "demo-alice-cookie"}) { errors { code field message } } }""",
        id=reward_ids["Free cookie"],
    )


DEMO_REWARDS: list[dict[str, Any]] = [
    {
        "name": "Free cookie",
        "description": "Any cookie from the counter.",
        "kind": "FREE_PRODUCT",
        "pointsCost": 150,
        "sku": "cookie",
        "voucherValidDays": 30,
    },
    {
        "name": "2 EUR off",
        "description": "2 EUR off any order of 5 EUR or more.",
        "kind": "FIXED_DISCOUNT",
        "pointsCost": 300,
        "valueMinor": 200,
        "voucherValidDays": 30,
    },
    {
        "name": "10% off beans",
        "description": "10% off one bag of beans.",
        "kind": "PERCENT_DISCOUNT",
        "pointsCost": 500,
        "percentOff": 10,
        "category": "beans",
        "perMemberLimit": 2,
    },
    {
        "name": "Free shipping",
        "description": "Free shipping on your next web order.",
        "kind": "FREE_SHIPPING",
        "pointsCost": 200,
    },
    {
        "name": "Plant a tree",
        "description": "We plant a tree with our partner charity.",
        "kind": "DONATION",
        "pointsCost": 250,
        "cause": "Trees for All",
    },
    {
        "name": "Barista masterclass",
        "description": "Two hours behind the bar with our head barista; 12 seats.",
        "kind": "EXPERIENCE",
        "pointsCost": 2_500,
        "stock": 12,
    },
]


async def seed_challenges(runtime: Runtime, admin: Principal, carol: uuid.UUID) -> None:
    """A badge, a monthly category challenge Carol has started, and a hidden spend one."""
    badge = await _call(
        runtime,
        admin,
        """mutation($input: CreateBadgeInput!) { createBadge(input: $input) {
            badge { id } errors { code field message } } }""",
        input={
            "name": "Coffee regular",
            "description": "Three drinks in a month.",
            "imageUrl": "https://example.com/badges/regular.png",
        },
    )
    create = """mutation($input: CreateChallengeInput!) { createChallenge(input: $input) {
        errors { code field message } } }"""
    await _call(
        runtime,
        admin,
        create,
        input={
            "name": "Three drinks this month",
            "description": "Buy a drink on three visits this month for 300 beans and a badge.",
            "goal": {"kind": "CATEGORY_PURCHASES", "target": 3, "category": "drinks"},
            "period": "MONTH",
            "rewardPoints": 300,
            "badgeId": badge["badge"]["id"],
        },
    )
    await _call(
        runtime,
        admin,
        create,
        input={
            "name": "Big spender",
            "description": "Spend 200.00 in total for 1,000 beans.",
            "goal": {"kind": "SPEND", "target": 20_000},
            "hidden": True,
            "rewardPoints": 1_000,
        },
    )
    latte = OrderLine(sku="latte", category="drinks", quantity=1, unit_price_minor=450)
    async with runtime.uow() as uow:
        await purchases.record_purchase(
            uow,
            runtime.clock,
            admin,
            purchases.RecordPurchase(carol, "demo-latte", 450, "EUR", lines=(latte,)),
        )


DEMO_ACTIONS = [
    {
        "key": "welcome",
        "kind": "SIGNUP",
        "name": "Welcome bonus",
        "description": "Beans for joining.",
        "points": 100,
    },
    {
        "key": "birthday",
        "kind": "BIRTHDAY",
        "name": "Birthday treat",
        "description": "Beans on your birthday, every year.",
        "points": 250,
    },
    {
        "key": "newsletter",
        "kind": "NEWSLETTER_SIGNUP",
        "name": "Newsletter",
        "description": "Subscribe to our newsletter.",
        "points": 50,
        "limits": {"lifetime": 1},
    },
    {
        "key": "instagram-follow",
        "kind": "SOCIAL_FOLLOW",
        "network": "instagram",
        "name": "Follow us on Instagram",
        "description": "Follow @democoffee and tap 'I follow'.",
        "points": 30,
        "reportedBy": "MEMBER",
        "limits": {"lifetime": 1},
    },
    {
        "key": "review",
        "kind": "PRODUCT_REVIEW",
        "name": "Review a blend",
        "description": "Review a coffee you bought in our web shop.",
        "points": 20,
        "limits": {"period": "WEEK", "perPeriod": 3, "lifetime": 50},
    },
]


async def seed_actions(runtime: Runtime, admin: Principal) -> None:
    """The earning actions catalog, through the admin API: signup and birthday bonuses, a
    newsletter and a review the shop reports, an Instagram follow the app reports."""
    document = """mutation($input: CreateEarningActionInput!) {
      createEarningAction(input: $input) { action { id } errors { code message } } }"""
    for fields in DEMO_ACTIONS:
        await _call(runtime, admin, document, input=fields)


async def seed_referrals(runtime: Runtime, admin: Principal) -> None:
    """Referral rules (a welcome voucher and points, a ladder, a link) and two friends
    Alice referred: Dave bought (Alice was paid), Erin has not yet."""
    rewards = await _call(runtime, admin, "{ rewards(first: 50) { nodes { id name } } }")
    welcome = next(r["id"] for r in rewards["nodes"] if r["name"] == "Free shipping")
    await _call(
        runtime,
        admin,
        """mutation($input: UpdateReferralProgramInput!) {
             updateReferralProgram(input: $input) { errors { code field message } } }""",
        input={
            "welcomePoints": 100,
            "welcomeRewardId": welcome,
            "referrerPoints": 500,
            "minPurchase": {"amountMinor": 1_500, "currency": "EUR"},
            "monthlyCap": 10,
            "milestones": [
                {"count": 5, "points": 1_000},
                {"count": 10, "points": 2_500},
                {"count": 25, "points": 7_500},
                {"count": 50, "points": 20_000},
            ],
            "normalisedDomains": ["gmail.com", "googlemail.com"],
            "linkTemplate": "https://coffee.example/r/{code}",
        },
    )
    clock = runtime.clock
    async with runtime.reader() as uow:
        program = await uow.programs.get_by_slug(DEMO)
        assert program is not None
        alice = await uow.members.get_by_subject(program.id, "alice")
        assert alice is not None
    for subject, display, amount in (("dave", "Dave Example", 2_450), ("erin", "Erin Example", 0)):
        principal = Principal(role=Role.MEMBER, program_slug=DEMO, subject=subject)
        async with runtime.uow() as uow:
            friend = await members.enroll(
                uow,
                clock,
                principal,
                members.Enrollment(display, referral_code=alice.referral_code),
            )
        if amount:
            async with runtime.uow() as uow:
                await purchases.record_purchase(
                    uow,
                    clock,
                    admin,
                    purchases.RecordPurchase(friend.id, f"demo-{subject}-1", amount, "EUR"),
                )


async def seed_leaderboard(runtime: Runtime, admin: Principal) -> None:
    """The monthly leaderboard on (top 3 paid 500, 300, 100 beans), the demo members on it."""
    await _call(
        runtime,
        admin,
        """mutation { updateLeaderboard(input: {enabled: true, topN: 3,
             bonusPoints: [500, 300, 100]}) { errors { code message } } }""",
    )
    for subject, *_ in DEMO_MEMBERS:
        member = Principal(role=Role.MEMBER, program_slug=DEMO, subject=subject)
        await _call(
            runtime,
            member,
            "mutation { setLeaderboardOptIn(input: {optIn: true}) { errors { code message } } }",
        )

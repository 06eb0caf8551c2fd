"""`advance_challenges_for_action`, the hook the earning actions call in their transaction:
ACTION_COUNT challenges count the action's kind and pay once, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.ids import parse
from domain.services.challenges import advance_challenges_for_action
from tests.support import Api, MovableClock, ledger_totals

CREATE = """mutation($i: CreateChallengeInput!) { createChallenge(input: $i) {
  challenge { id } errors { code field } } }"""
ME = "{ me { challenges { name progress completedAt } wallet { balance } } }"


async def _action(api: Api, member_id: str, kind: str, *, commit: bool = True) -> None:
    parsed = parse(member_id)
    assert parsed is not None
    async with api.runtime.uow() as uow:
        program = await uow.programs.get_by_slug(api.program)
        member = await uow.members.get(program.id, parsed[1]) if program else None
        assert program is not None and member is not None
        await advance_challenges_for_action(uow, program, member, kind, api.runtime.clock.now())
        if commit:
            await uow.commit()


@pytest.mark.asyncio
async def test_actions_of_the_kind_advance_and_complete_once(api: Api, clock: MovableClock) -> None:
    # given "review two products" paying 200 points, and a purchase challenge
    clock.freeze(datetime(2026, 11, 20, 12, tzinfo=UTC))
    for name, goal in (
        ("Reviewer", {"kind": "ACTION_COUNT", "target": 2, "actionKind": "product_review"}),
        ("Shopper", {"kind": "PURCHASE_COUNT", "target": 1}),
    ):
        values = {"name": name, "goal": goal, "rewardPoints": 200}
        payload = (await api.ok(CREATE, {"i": values}, api.admin()))["createChallenge"]
        assert payload["errors"] == [], payload
    member = await api.enroll("ana")
    # when the member shares (another kind), then reviews once in a transaction that rolls
    # back, then reviews three times
    await _action(api, member["id"], "SHARE")
    await _action(api, member["id"], "PRODUCT_REVIEW", commit=False)
    shown = (await api.ok(ME, token=api.member("ana")))["me"]
    assert [(c["name"], c["progress"]) for c in shown["challenges"]] == [
        ("Reviewer", 0),
        ("Shopper", 0),
    ]
    for _ in range(3):
        await _action(api, member["id"], "PRODUCT_REVIEW")
    # then the review challenge counted three, paid 200 points once; purchases counted none
    me = (await api.ok(ME, token=api.member("ana")))["me"]
    progress = {c["name"]: (c["progress"], c["completedAt"] is not None) for c in me["challenges"]}
    assert progress == {"Reviewer": (3, True), "Shopper": (0, False)}
    assert me["wallet"]["balance"] == 200
    totals = await ledger_totals(api.runtime, parse(member["id"])[1])  # type: ignore[index]
    assert totals.consistent() and totals.entry_count == 1

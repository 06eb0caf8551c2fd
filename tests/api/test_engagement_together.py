"""The engagement features together: earning actions count towards challenges (in the
action's transaction), and what they pay shows on the leaderboard and in the wallet."""

from __future__ import annotations

import pytest

from tests.support import Api

CREATE_ACTION = """mutation($i: CreateEarningActionInput!) { createEarningAction(input: $i) {
  action { id } errors { code field } } }"""
CREATE_CHALLENGE = """mutation($i: CreateChallengeInput!) { createChallenge(input: $i) {
  challenge { id } errors { code field } } }"""
RECORD = """mutation($i: RecordActionInput!) { recordAction(input: $i) {
  wallet { balance version } errors { code field } } }"""


@pytest.mark.asyncio
async def test_reviews_complete_an_action_challenge_and_pay_once(api: Api) -> None:
    # given a review action worth 10 points and a challenge "two reviews" worth 100
    admin = api.admin()
    action = await api.ok(
        CREATE_ACTION,
        {"i": {"key": "review", "kind": "PRODUCT_REVIEW", "name": "Review", "points": 10}},
        admin,
    )
    assert action["createEarningAction"]["errors"] == []
    challenge = await api.ok(
        CREATE_CHALLENGE,
        {
            "i": {
                "name": "Two reviews",
                "rewardPoints": 100,
                "goal": {"kind": "ACTION_COUNT", "target": 2, "actionKind": "PRODUCT_REVIEW"},
            }
        },
        admin,
    )
    assert challenge["createChallenge"]["errors"] == [], challenge
    gold = await api.ok(
        'mutation { createTier(input: {name: "Gold", threshold: 100}) { errors { code } } }',
        token=admin,
    )
    assert gold["createTier"]["errors"] == []
    member = await api.enroll("alice")
    # when the brand's backend reports three reviews (one of them twice)
    answers = []
    for event in ("r-1", "r-2", "r-2", "r-3"):
        data = await api.ok(
            RECORD, {"i": {"memberId": member["id"], "action": "review", "eventId": event}}, admin
        )
        assert data["recordAction"]["errors"] == [], data
        answers.append(data["recordAction"]["wallet"])
        if event == "r-2":  # the challenge's points count for the tier at once
            tier = await api.ok("{ me { tier { name } } }", token=api.member("alice"))
            assert tier["me"]["tier"]["name"] == "Gold"
    # then the second review completes the challenge in its own transaction, once
    assert [a["balance"] for a in answers] == [10, 120, 120, 130]
    me = await api.ok(
        """{ me { challenges { progress completedAt }
             wallet { history(first: 10) { edges { node { kind points } } } } } }""",
        token=api.member("alice"),
    )
    kinds = [edge["node"] for edge in me["me"]["wallet"]["history"]["edges"]]
    assert sorted((k["kind"], k["points"]) for k in kinds) == [
        ("ACTION", 10),
        ("ACTION", 10),
        ("ACTION", 10),
        ("CHALLENGE", 100),
    ]

"""Who may read and do what: members, staff, admins, other programs, bad tokens."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import jwt
import pytest

from api import ids
from api.auth import mint_token
from domain.model import Role
from domain.services.programs import create_program
from tests.api.rewards_support import create_reward, funded_member, redeem
from tests.support import Api, MovableClock, unique_slug

MEMBER_Q = "query($id: ID!) { member(id: $id) { id displayName wallet { balance } } }"
NODE_Q = "query($id: ID!) { node(id: $id) { id ... on Member { displayName } } }"


@pytest.mark.asyncio
async def test_member_cannot_read_another_member_by_member_or_node(api: Api) -> None:
    alice = await api.enroll("alice")
    await api.enroll("bob")
    bob_token = api.member("bob")
    # member(id) is for staff and admins only
    body = await api.raw(MEMBER_Q, {"id": alice["id"]}, bob_token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] == {"member": None}
    # node(id) hides what the caller may not see
    assert (await api.ok(NODE_Q, {"id": alice["id"]}, bob_token))["node"] is None
    # while alice sees herself
    own = await api.ok(NODE_Q, {"id": alice["id"]}, api.member("alice"))
    assert own["node"] == {"id": alice["id"], "displayName": "Alice"}


@pytest.mark.asyncio
async def test_staff_and_admin_read_members_of_their_program(api: Api) -> None:
    alice = await api.enroll("alice", email="alice@example.com")
    await api.purchase(alice["id"], "o-1", 1000)
    for token in (api.admin(),):
        data = await api.ok(MEMBER_Q, {"id": alice["id"]}, token)
        assert data["member"]["wallet"] == {"balance": 100}
    # staff read a member only after scanning the card, and never the contact data
    query = "query($id: ID!) { member(id: $id) { email phone } }"
    refused = await api.raw(query, {"id": alice["id"]}, api.staff())
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await api.scan("alice")
    assert (await api.ok(query, {"id": alice["id"]}, api.staff()))["member"]["email"] is None
    admin_view = await api.ok(query, {"id": alice["id"]}, api.admin())
    assert admin_view["member"]["email"] == "alice@example.com"


@pytest.mark.asyncio
async def test_a_token_of_another_program_sees_nothing_of_this_one(api: Api) -> None:
    # given a member of this program and a second program with its own admin
    alice = await api.enroll("alice")
    other = unique_slug("other")
    async with api.runtime.uow() as uow:
        await create_program(uow, api.runtime.clock, slug=other, name="Other", currency="EUR")
    admin = api.token(Role.ADMIN, "root", program=other)
    member = api.token(Role.MEMBER, "alice", program=other)
    # then neither member(id), node(id) nor me reach alice
    assert (await api.ok(MEMBER_Q, {"id": alice["id"]}, admin))["member"] is None
    assert (await api.ok(NODE_Q, {"id": alice["id"]}, admin))["node"] is None
    assert (await api.ok("{ me { id } }", token=member))["me"] is None
    # and crediting her from the other program finds no such member
    result = await api.purchase(alice["id"], "o-x", 1000, token=admin)
    assert result["errors"][0]["code"] == "NOT_FOUND"
    assert (await api.wallet("alice"))["balance"] == 0
    # its program is its own
    program = await api.ok("{ program { slug tiers { rank name } } }", token=admin)
    assert program["program"] == {"slug": other, "tiers": [{"rank": 0, "name": "Member"}]}


@pytest.mark.asyncio
async def test_program_node_is_only_the_callers_program(api: Api) -> None:
    data = await api.ok("{ program { id } }", token=api.member("x"))
    program_id = data["program"]["id"]
    found = await api.ok(
        "query($id: ID!) { node(id: $id) { id } }", {"id": program_id}, api.admin()
    )
    assert found["node"] == {"id": program_id}
    other = unique_slug("other")
    async with api.runtime.uow() as uow:
        await create_program(uow, api.runtime.clock, slug=other, name="Other", currency="EUR")
    stranger = api.token(Role.ADMIN, "root", program=other)
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert (await api.ok(query, {"id": program_id}, stranger))["node"] is None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("mutation", "role"),
    [
        (
            'mutation { adjustPoints(input: {memberId: "x", points: 1, reason: "r", '
            'idempotencyKey: "k"}) { errors { code } } }',
            Role.STAFF,
        ),
        (
            'mutation { adjustPoints(input: {memberId: "x", points: 1, reason: "r", '
            'idempotencyKey: "k"}) { errors { code } } }',
            Role.MEMBER,
        ),
        (
            'mutation { recordPurchase(input: {memberId: "x", orderId: "o", '
            'total: {amountMinor: 1, currency: "EUR"}}) { errors { code } } }',
            Role.MEMBER,
        ),
        ('mutation { updateProgram(input: {name: "x"}) { errors { code } } }', Role.STAFF),
        (
            'mutation { createTier(input: {name: "x", threshold: 5}) { errors { code } } }',
            Role.MEMBER,
        ),
    ],
)
async def test_roles_without_the_right_are_forbidden(api: Api, mutation: str, role: Role) -> None:
    body = await api.raw(mutation, token=api.token(role, "someone", store="s1"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None


def _claims(api: Api, **overrides: object) -> dict:
    now = int(time.time())
    claims = {
        "sub": "alice",
        "role": "member",
        "program": api.program,
        "iss": api.runtime.settings.jwt_issuer,
        "aud": api.runtime.settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _bad_tokens(api: Api) -> dict[str, str]:
    secret = api.runtime.settings.secret
    sign = lambda claims: jwt.encode(claims, secret, algorithm="HS256")  # noqa: E731
    none_token = jwt.encode(_claims(api), key=None, algorithm="none")
    return {
        "forged": jwt.encode(_claims(api), "not-the-secret-" * 3, algorithm="HS256"),
        "expired": sign(_claims(api, exp=int(time.time()) - 3600)),
        "alg none": none_token,
        "wrong audience": sign(_claims(api, aud="somebody-else")),
        "wrong issuer": sign(_claims(api, iss="evil")),
        "no exp": sign(_claims(api, exp=None)),
        "no iat": sign(_claims(api, iat=None)),
        "no sub": sign(_claims(api, sub=None)),
        "unknown role": sign(_claims(api, role="superuser")),
        "staff without store": sign(_claims(api, role="staff")),
        "unknown program": sign(_claims(api, program="no-such-program")),
        "future nbf": sign(_claims(api, nbf=int(time.time()) + 3600)),
        "garbage": "not.a.token",
        "huge": "a" * 100_000,
    }


@pytest.mark.asyncio
async def test_missing_and_bad_tokens_are_unauthenticated(api: Api) -> None:
    await api.enroll("alice")
    body = await api.raw("{ me { id } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for name, token in _bad_tokens(api).items():
        body = await api.raw("{ me { id } }", token=token)
        assert body["data"] == {"me": None}, name
        error = body["errors"][0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED", (name, body)
        assert "Traceback" not in error["message"] and "jwt" not in error["message"].lower()


@pytest.mark.asyncio
async def test_malformed_authorization_header_is_unauthenticated(api: Api) -> None:
    response = await api.client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": "Basic abc"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.asyncio
async def test_minted_token_round_trips_to_the_principal(api: Api) -> None:
    token = mint_token(
        api.runtime.settings, program=api.program, role=Role.STAFF, subject="e-7", store="berlin"
    )
    principal = api.runtime.verifier.verify(token)
    assert (principal.role, principal.subject, principal.store) == (Role.STAFF, "e-7", "berlin")


CANCEL_Q = """mutation($id: ID!) { cancelRedemption(input: {redemptionId: $id}) {
  redemption { id } errors { code field } } }"""


@pytest.mark.asyncio
async def test_another_members_redemption_cannot_be_told_from_an_unknown_one(api: Api) -> None:
    # given alice's voucher and an id that names no redemption at all
    await funded_member(api, "alice", 500)
    await api.enroll("mallory")
    reward = await create_reward(api)
    theirs = (await redeem(api, "alice", reward["id"], "k"))["redemption"]["id"]
    unknown = ids.encode("Redemption", uuid.uuid4())
    # when mallory tries to cancel either
    answers = [
        (await api.ok(CANCEL_Q, {"id": global_id}, api.member("mallory")))["cancelRedemption"]
        for global_id in (theirs, unknown)
    ]
    # then both answers are the same NOT_FOUND, and alice's voucher is untouched
    assert (
        answers[0]
        == answers[1]
        == {
            "redemption": None,
            "errors": [{"code": "NOT_FOUND", "field": ["input", "redemptionId"]}],
        }
    )
    mine = await api.ok(
        "{ me { redemptions { edges { node { status } } } } }", token=api.member("alice")
    )
    assert mine["me"]["redemptions"]["edges"] == [{"node": {"status": "ISSUED"}}]


@pytest.mark.asyncio
async def test_a_later_account_claiming_a_phone_cannot_switch_off_its_lookup(api: Api) -> None:
    # given a program that lets tills find members by phone, and alice with her number
    await api.ok(
        "mutation { updateProgram(input: {inStore: {cardNumberLookup: true, phoneLookup: true, "
        "windowMinutes: 10}}) { errors { code } } }",
        token=api.admin(),
    )
    alice = await api.enroll("alice", phone="+4915123456789")
    lookup = """mutation($p: String!) { lookupMember(input: {phone: $p}) {
      member { id } errors { code } } }"""
    # when two more accounts claim the same (unverified) number
    await api.enroll("mallory", phone="+49 151 23456789")
    await api.enroll("trudy", phone="+4915123456789")
    # then the till still finds alice, the first to claim it
    found = await api.ok(lookup, {"p": "+4915123456789"}, api.staff())
    assert found["lookupMember"] == {"member": {"id": alice["id"]}, "errors": []}


async def _paths_reaching(api: Api, token: str, objects: dict[str, str]) -> list[str]:
    """Every way to a member's data there is; the names of those that answered with it."""
    reached = []
    for type_name in ("Member", "LedgerEntry", "Redemption"):
        body = await api.raw(
            "query($id: ID!) { node(id: $id) { id } }", {"id": objects[type_name]}, token
        )
        if (body.get("data") or {}).get("node") is not None:
            reached.append(f"node({type_name})")
    body = await api.raw(
        """query($id: ID!) { member(id: $id) { id wallet { balance }
             redemptions { edges { node { voucherCode } } } } }""",
        {"id": objects["Member"]},
        token,
    )
    if (body.get("data") or {}).get("member") is not None:
        reached.append("member")
    body = await api.raw(
        """mutation($i: PreviewEarnInput!) { previewEarn(input: $i) { pointsEarned } }""",
        {"i": {"memberId": objects["Member"], "total": {"amountMinor": 1000, "currency": "EUR"}}},
        token,
    )
    if ((body.get("data") or {}).get("previewEarn") or {}).get("pointsEarned") is not None:
        reached.append("previewEarn")
    return reached


ALL_PATHS = ["node(Member)", "node(LedgerEntry)", "node(Redemption)", "member", "previewEarn"]


@pytest.mark.asyncio
async def test_one_rule_guards_every_path_to_a_members_data(api: Api, clock: MovableClock) -> None:
    # given alice with a ledger entry and a voucher, and a partner in the program
    alice = await funded_member(api, "alice", 500)
    redemption = (await redeem(api, "alice", (await create_reward(api))["id"], "k"))["redemption"]
    history = await api.ok(
        "{ me { wallet { history(first: 1) { edges { node { id } } } } } }",
        token=api.member("alice"),
    )
    objects = {
        "Member": alice["id"],
        "LedgerEntry": history["me"]["wallet"]["history"]["edges"][0]["node"]["id"],
        "Redemption": redemption["id"],
    }
    await api.ok(
        'mutation { createPartner(input: {slug: "p", name: "P"}) { errors { code } } }',
        token=api.admin(),
    )
    await api.enroll("mallory")
    # when the till at store-1 scans her card
    await api.scan("alice", "store-1")
    # then that till, alice herself and admins reach her by every path ...
    assert await _paths_reaching(api, api.staff("store-1"), objects) == ALL_PATHS
    assert await _paths_reaching(api, api.admin(), objects) == ALL_PATHS
    own = await _paths_reaching(api, api.member("alice"), objects)
    assert own == ["node(Member)", "node(LedgerEntry)", "node(Redemption)", "previewEarn"]
    # ... and another store's till, a partner and another member by none
    for token in (
        api.staff("store-2"),
        api.token(Role.PARTNER, "pos", partner="p"),
        api.member("mallory"),
    ):
        assert await _paths_reaching(api, token, objects) == []
    # once the window has closed, not even the till that scanned her
    clock.advance(timedelta(minutes=11))
    assert await _paths_reaching(api, api.staff("store-1"), objects) == []
    assert await _paths_reaching(api, api.admin(), objects) == ALL_PATHS

"""QR member cards and the in-store flow through GraphQL: codes, scans, windows, lookups, audit."""

from __future__ import annotations

import asyncio
import base64
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import png
import pyotp
import pytest
import zxingcpp

from domain.model import Role
from domain.services.programs import create_program
from tests.support import Api, MovableClock, unique_slug

T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
SCAN = """mutation($p: String!) { scanMemberCard(input: {payload: $p}) {
  member { id displayName blocked tier { name } wallet { balance pending }
           usableVouchers { voucherCode } affordableRewards { name } }
  windowExpiresAt errors { code field message } } }"""
CARD = "{ me { card { cardNumber qrPayload qrSvg expiresAt } } }"
SECRET = "mutation { issueCardSecret { cardSecret { secret digits period algorithm otpauthUri } } }"


async def secret_of(api: Api, sub: str) -> pyotp.TOTP:
    data = await api.ok(SECRET, token=api.member(sub))
    secret = data["issueCardSecret"]["cardSecret"]
    assert (secret["digits"], secret["period"], secret["algorithm"]) == (8, 30, "SHA1")
    return pyotp.TOTP(secret["secret"], digits=8, interval=30)


def payload(card_number: str, totp: pyotp.TOTP, at: datetime) -> str:
    return f"L1:{card_number}:{totp.at(at)}"


async def scan(api: Api, text: str, store: str = "store-1") -> dict:
    return (await api.ok(SCAN, {"p": text}, api.staff(store)))["scanMemberCard"]


def decode_png(data: bytes) -> list[str]:
    _, _, rows, info = png.Reader(bytes=data).asDirect()
    pixels = np.array([list(row) for row in rows], dtype=np.uint8)
    if info["bitdepth"] == 1:
        pixels = pixels * 255
    return [result.text for result in zxingcpp.read_barcodes(pixels)]


def decode_svg(svg: str) -> list[str]:
    """Rasterise qrcode's SVG path of unit squares and read it back with a QR decoder."""
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))
    grid = np.full((size, size), 255, dtype=np.uint8)
    for x, y in re.findall(r"M(\d+),(\d+)H", svg):
        grid[int(y), int(x)] = 0
    scaled = np.kron(grid, np.ones((6, 6), dtype=np.uint8))
    return [result.text for result in zxingcpp.read_barcodes(scaled)]


@pytest.mark.asyncio
async def test_the_card_payload_is_short_and_its_svg_and_png_decode_back_to_it(api: Api) -> None:
    member = await api.enroll("alice")
    card = (await api.ok(CARD, token=api.member("alice")))["me"]["card"]
    text = card["qrPayload"]
    assert len(text) < 100
    assert re.fullmatch(rf"L1:{member['cardNumber']}:\d{{8}}", text)
    assert decode_svg(card["qrSvg"]) == [text]
    response = await api.client.get(
        "/cards/me.png", headers={"Authorization": f"Bearer {api.member('alice')}"}
    )
    assert response.headers["content-type"] == "image/png"
    assert decode_png(response.content) == [text]
    assert (await api.client.get("/cards/me.png")).status_code == 401
    staff = await api.client.get(
        "/cards/me.png", headers={"Authorization": f"Bearer {api.staff()}"}
    )
    assert staff.status_code == 403


@pytest.mark.asyncio
async def test_codes_within_one_step_are_accepted_once_and_older_ones_never(
    api: Api, clock: MovableClock
) -> None:
    # given a frozen clock and the member's card secret
    clock.freeze(T0)
    member = await api.enroll("bob")
    totp = await secret_of(api, "bob")
    number = member["cardNumber"]
    # then the previous, current and next step are accepted, each once, in order
    for offset in (-30, 0, 30):
        result = await scan(api, payload(number, totp, T0 + timedelta(seconds=offset)))
        assert result["errors"] == [], (offset, result)
        assert result["member"]["displayName"] == "Bob"
    # a replay, or an older code after a newer one, is refused
    replay = await scan(api, payload(number, totp, T0 + timedelta(seconds=30)))
    assert replay["errors"][0]["code"] == "CARD_ALREADY_USED"
    older = await scan(api, payload(number, totp, T0))
    assert older["errors"][0]["code"] == "CARD_ALREADY_USED"
    # two steps old is expired, two steps ahead does not verify
    clock.advance(timedelta(minutes=5))
    now = clock.now()
    stale = await scan(api, payload(number, totp, now - timedelta(seconds=60)))
    assert stale["errors"][0]["code"] == "CARD_EXPIRED"
    ahead = await scan(api, payload(number, totp, now + timedelta(seconds=60)))
    assert ahead["errors"][0]["code"] == "CARD_INVALID"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "text",
    ["", "hello", "L1:123:12345678", "L2:9000000000000000:12345678", "x" * 500, "L1::"],
)
async def test_garbage_is_card_invalid(api: Api, text: str) -> None:
    result = await scan(api, text)
    assert result["member"] is None
    assert result["errors"][0]["code"] == "CARD_INVALID"
    assert result["errors"][0]["field"] == ["input", "payload"]


@pytest.mark.asyncio
async def test_two_tills_scanning_one_code_at_once_accept_it_once(
    api: Api, clock: MovableClock
) -> None:
    clock.freeze(T0)
    member = await api.enroll("cara")
    totp = await secret_of(api, "cara")
    text = payload(member["cardNumber"], totp, T0)
    results = await asyncio.gather(*(scan(api, text, f"store-{n}") for n in range(8)))
    outcomes = Counter(r["errors"][0]["code"] if r["errors"] else "OK" for r in results)
    assert outcomes == {"OK": 1, "CARD_ALREADY_USED": 7}


@pytest.mark.asyncio
async def test_a_new_secret_retires_the_old_one(api: Api, clock: MovableClock) -> None:
    clock.freeze(T0)
    member = await api.enroll("dan")
    old = await secret_of(api, "dan")
    new = await secret_of(api, "dan")
    refused = await scan(api, payload(member["cardNumber"], old, T0))
    assert refused["errors"][0]["code"] == "CARD_INVALID"
    accepted = await scan(api, payload(member["cardNumber"], new, T0))
    assert accepted["errors"] == []
    # the card the app fetches is made from the current secret too
    clock.advance(timedelta(seconds=30))
    card = (await api.ok(CARD, token=api.member("dan")))["me"]["card"]
    assert card["qrPayload"] == payload(member["cardNumber"], new, clock.now())


@pytest.mark.asyncio
async def test_the_scan_shows_the_till_what_it_needs(api: Api) -> None:
    member = await api.enroll("eve")
    await api.purchase(member["id"], "o-1", 5000)
    await api.ok(
        """mutation { createReward(input: {name: "Mug", kind: FREE_PRODUCT, sku: "mug",
             pointsCost: 300}) { errors { code } } }""",
        token=api.admin(),
    )
    await api.ok(
        """mutation { createReward(input: {name: "Bike", kind: FREE_PRODUCT, sku: "bike",
             pointsCost: 90000}) { errors { code } } }""",
        token=api.admin(),
    )
    result = await scan(api, await api.card_payload("eve"))
    seen = result["member"]
    assert seen["wallet"] == {"balance": 500, "pending": 0}
    assert seen["tier"] == {"name": "Member"}
    assert seen["affordableRewards"] == [{"name": "Mug"}]
    assert seen["usableVouchers"] == []
    assert result["windowExpiresAt"] is not None


@pytest.mark.asyncio
async def test_staff_act_inside_the_window_of_their_store_only(
    api: Api, clock: MovableClock
) -> None:
    member = await api.enroll("fay")
    staff_purchase = lambda order, store="store-1": api.purchase(  # noqa: E731
        member["id"], order, 1000, token=api.staff(store)
    )
    # outside any window: FORBIDDEN
    body = await api.raw(
        """mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) { errors { code } } }""",
        {
            "i": {
                "memberId": member["id"],
                "orderId": "o-0",
                "total": {"amountMinor": 1000, "currency": "EUR"},
            }
        },
        api.staff(),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # after store-1 scans: store-1 may act, store-2 may not
    await api.scan("fay", "store-1")
    assert (await staff_purchase("o-1"))["pointsEarned"] == 100
    other = await api.raw(
        "query($id: ID!) { member(id: $id) { id } }", {"id": member["id"]}, api.staff("store-2")
    )
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # ten minutes later the window has closed; admins are never bound
    clock.advance(timedelta(minutes=10, seconds=1))
    late = await api.raw(
        "query($id: ID!) { member(id: $id) { id } }", {"id": member["id"]}, api.staff("store-1")
    )
    assert late["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await api.purchase(member["id"], "o-2", 1000))["pointsEarned"] == 100
    assert (await api.wallet("fay"))["balance"] == 200


@pytest.mark.asyncio
async def test_card_and_secret_are_the_members_alone(api: Api) -> None:
    member = await api.enroll("gil")
    query = "query($id: ID!) { member(id: $id) { card { qrPayload } } }"
    for token in (api.admin(),):
        body = await api.raw(query, {"id": member["id"]}, token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "qrPayload" not in str(body.get("data"))
    await api.scan("gil")
    staff = await api.raw(query, {"id": member["id"]}, api.staff())
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    partner = api.token(Role.PARTNER, "p", partner="cinema")
    node = await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": member["id"]}, partner)
    assert node["node"] is None
    for token in (api.staff(), api.admin(), partner):
        body = await api.raw(SECRET, token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other = unique_slug("other")
    async with api.runtime.uow() as uow:
        await create_program(uow, api.runtime.clock, slug=other, name="Other", currency="EUR")
    foreign = api.token(Role.MEMBER, "gil", program=other)
    assert (await api.ok("{ me { id } }", token=foreign))["me"] is None
    # a code of this program's card is worthless at another program's till
    foreign_staff = api.token(Role.STAFF, "s", store="x", program=other)
    text = await api.card_payload("gil")
    result = await api.ok(SCAN, {"p": text}, foreign_staff)
    assert result["scanMemberCard"]["errors"][0]["code"] == "CARD_INVALID"


@pytest.mark.asyncio
async def test_blocked_members_are_refused_at_the_till(api: Api) -> None:
    member = await api.enroll("hal")
    blocked = await api.ok(
        """mutation($id: ID!) { blockMember(input: {memberId: $id, blocked: true,
             reason: "fraud check"}) { member { blocked } errors { code } } }""",
        {"id": member["id"]},
        api.admin(),
    )
    assert blocked["blockMember"]["member"]["blocked"] is True
    result = await scan(api, await api.card_payload("hal"))
    assert result["errors"][0]["code"] == "MEMBER_BLOCKED"
    purchase = await api.purchase(member["id"], "o-1", 1000)
    assert purchase["errors"][0]["code"] == "MEMBER_BLOCKED"


@pytest.mark.asyncio
async def test_failed_scans_are_rate_limited_per_staff_and_store_and_audited(
    api: Api,
) -> None:
    member = await api.enroll("ivy")
    for n in range(10):
        result = await scan(api, f"L1:{member['cardNumber']}:{n:08d}")
        assert result["errors"][0]["code"] == "CARD_INVALID"
    limited = await scan(api, await api.card_payload("ivy"))
    assert limited["errors"][0]["code"] == "RATE_LIMITED"
    # another store's till is not affected
    assert (await scan(api, await api.card_payload("ivy"), "store-2"))["errors"] == []
    log = await api.ok(
        """{ auditLog(first: 100) { edges { node { actor action outcome store } } } }""",
        token=api.admin(),
    )
    outcomes = Counter((e["node"]["store"], e["node"]["outcome"]) for e in log["auditLog"]["edges"])
    assert outcomes == {
        ("store-1", "CARD_INVALID"): 10,
        ("store-1", "RATE_LIMITED"): 1,
        ("store-2", "OK"): 1,
    }
    body = await api.raw("{ auditLog { edges { node { id } } } }", token=api.staff())
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.asyncio
async def test_lookups_follow_the_programs_rules_and_open_a_window(api: Api) -> None:
    member = await api.enroll("jo", phone="+4915123456789")
    lookup = """mutation($i: LookupMemberInput!) { lookupMember(input: $i) {
      member { id } windowExpiresAt errors { code field } } }"""
    by_card = await api.ok(lookup, {"i": {"cardNumber": member["cardNumber"]}}, api.staff())
    assert by_card["lookupMember"]["member"]["id"] == member["id"]
    by_phone = await api.raw(lookup, {"i": {"phone": "+49 151 23456789"}}, api.staff())
    assert by_phone["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await api.ok(
        """mutation { updateProgram(input: {inStore: {cardNumberLookup: false, phoneLookup: true,
             windowMinutes: 5}}) { errors { code } } }""",
        token=api.admin(),
    )
    found = await api.ok(lookup, {"i": {"phone": "+49 151 23456789"}}, api.staff("store-9"))
    assert found["lookupMember"]["member"]["id"] == member["id"]
    window = datetime.fromisoformat(found["lookupMember"]["windowExpiresAt"])
    assert timedelta(minutes=4) < window - datetime.now(UTC) <= timedelta(minutes=5)
    refused = await api.raw(lookup, {"i": {"cardNumber": member["cardNumber"]}}, api.staff())
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    none = await api.ok(lookup, {"i": {"phone": "+4915199999999"}}, api.staff())
    assert none["lookupMember"]["errors"][0]["code"] == "NOT_FOUND"
    both = await api.ok(lookup, {"i": {"phone": "+4915199999999", "cardNumber": "1"}}, api.staff())
    assert both["lookupMember"]["errors"][0]["code"] == "INVALID_INPUT"


def test_otpauth_uri_carries_the_parameters() -> None:
    secret = base64.b32encode(b"x" * 20).decode().rstrip("=")
    uri = f"otpauth://totp/demo:9?secret={secret}&issuer=demo&algorithm=SHA1&digits=8&period=30"
    parsed = pyotp.parse_uri(uri)
    assert parsed.digits == 8 and parsed.interval == 30


@pytest.mark.asyncio
async def test_simultaneous_bad_guesses_are_counted_exactly(api: Api) -> None:
    member = await api.enroll("kai")
    results = await asyncio.gather(
        *(scan(api, f"L1:{member['cardNumber']}:{n:08d}") for n in range(16))
    )
    outcomes = Counter(r["errors"][0]["code"] for r in results)
    assert outcomes == {"CARD_INVALID": 10, "RATE_LIMITED": 6}


@pytest.mark.asyncio
async def test_a_new_secret_starts_a_fresh_replay_window(api: Api, clock: MovableClock) -> None:
    # given a code of the first secret accepted in this step
    clock.freeze(T0)
    member = await api.enroll("finn")
    number = member["cardNumber"]
    old = await secret_of(api, "finn")
    assert (await scan(api, payload(number, old, T0 + timedelta(seconds=30))))["errors"] == []
    # when the member asks for a new secret in the same step
    new = await secret_of(api, "finn")
    # then the new secret's code for this step (and the one before) is accepted at once, once
    for at in (T0, T0 + timedelta(seconds=30)):
        accepted = await scan(api, payload(number, new, at))
        assert accepted["errors"] == [], accepted
        assert accepted["member"]["displayName"] == "Finn"
    replay = await scan(api, payload(number, new, T0 + timedelta(seconds=30)))
    assert replay["errors"][0]["code"] == "CARD_ALREADY_USED"
    # and the old secret's codes stay dead
    stale = await scan(api, payload(number, old, T0 + timedelta(seconds=30)))
    assert stale["errors"][0]["code"] == "CARD_INVALID"

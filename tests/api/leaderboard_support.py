"""Leaderboard calls as the app and the back office make them."""

from __future__ import annotations

from typing import Any

from tests.support import Api

BOARD = """query($month: String, $first: Int) { leaderboard(month: $month, first: $first) {
  month enabled optedIn entries { rank displayName points isMe } me { rank points isMe } } }"""
OPT_IN = """mutation($optIn: Boolean!) { setLeaderboardOptIn(input: {optIn: $optIn}) {
  optedIn errors { code field message } } }"""
UPDATE = """mutation($input: UpdateLeaderboardInput!) { updateLeaderboard(input: $input) {
  leaderboard { enabled topN bonusPoints } errors { code field message } } }"""
SET_ZONE = """mutation($zone: String!) { updateProgram(input: {timeZone: $zone}) {
  errors { code field } } }"""
REFUND = """mutation($i: RefundPurchaseInput!) { refundPurchase(input: $i) {
  pointsReversed errors { code field message } } }"""


async def enable(api: Api, top_n: int = 3, bonus: list[int] | None = None) -> dict[str, Any]:
    data = await api.ok(
        UPDATE,
        {"input": {"enabled": True, "topN": top_n, "bonusPoints": bonus or [500, 300, 100]}},
        api.admin(),
    )
    assert data["updateLeaderboard"]["errors"] == [], data
    return data["updateLeaderboard"]["leaderboard"]


async def opt_in(api: Api, sub: str, value: bool = True) -> None:
    data = await api.ok(OPT_IN, {"optIn": value}, api.member(sub))
    assert data["setLeaderboardOptIn"] == {"optedIn": value, "errors": []}, data


async def board(
    api: Api, token: str, month: str | None = None, first: int | None = None
) -> dict[str, Any]:
    data = await api.ok(BOARD, {"month": month, "first": first}, token)
    return data["leaderboard"]


async def set_zone(api: Api, zone: str) -> None:
    data = await api.ok(SET_ZONE, {"zone": zone}, api.admin())
    assert data["updateProgram"]["errors"] == []


async def member_earning(api: Api, sub: str, amount_minor: int, order: str) -> str:
    """Enroll `sub`, opt them in and credit a purchase (10 points per 1.00); their id."""
    member = await api.enroll(sub)
    await opt_in(api, sub)
    result = await api.purchase(member["id"], order, amount_minor)
    assert result["errors"] == [], result
    return str(member["id"])


def ranks(found: dict[str, Any]) -> list[tuple[int, str | None, int]]:
    return [(e["rank"], e["displayName"], e["points"]) for e in found["entries"]]

"""Helpers for the earning actions tests: the admin catalog and reporting through GraphQL."""

from __future__ import annotations

from typing import Any

from tests.support import Api

CREATE = """mutation($input: CreateEarningActionInput!) { createEarningAction(input: $input) {
  action { id key kind name points reportedBy network limits { lifetime period perPeriod }
           startsAt endsAt archived reward { id name } }
  errors { code field message } } }"""

RECORD = """mutation($input: RecordActionInput!) { recordAction(input: $input) {
  record { actionKey actionName points occurredAt voucher { id voucherCode pointsSpent } }
  wallet { balance version }
  errors { code field message } } }"""

ME_ACTIONS = """{ me { actions { key kind name points reportedBy canEarnNow remainingInPeriod
  period periodResetsAt lifetimeRemaining network reward { name } } } }"""

SET_ZONE = """mutation($zone: String!) { updateProgram(input: {timeZone: $zone}) {
  errors { code } } }"""


async def create_action(api: Api, **fields: Any) -> dict[str, Any]:
    """Create an action as admin and return the payload (action and errors)."""
    data = await api.ok(CREATE, {"input": fields}, api.admin())
    return dict(data["createEarningAction"])


async def action(api: Api, **fields: Any) -> dict[str, Any]:
    payload = await create_action(api, **fields)
    assert payload["errors"] == [], payload
    return dict(payload["action"])


async def record(
    api: Api, action_key: str, event_id: str, member_id: str | None = None, token: str | None = None
) -> dict[str, Any]:
    variables: dict[str, Any] = {"action": action_key, "eventId": event_id}
    if member_id is not None:
        variables["memberId"] = member_id
    data = await api.ok(RECORD, {"input": variables}, token or api.admin())
    return dict(data["recordAction"])


async def set_zone(api: Api, zone: str) -> None:
    data = await api.ok(SET_ZONE, {"zone": zone}, api.admin())
    assert data["updateProgram"]["errors"] == []


async def history(api: Api, sub: str) -> list[dict[str, Any]]:
    data = await api.ok(
        "{ me { wallet { history(first: 50) { edges { node { kind points description } } } } } }",
        token=api.member(sub),
    )
    return [e["node"] for e in data["me"]["wallet"]["history"]["edges"]]

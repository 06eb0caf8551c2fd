"""Enrollment and reading oneself through GraphQL over HTTP."""

from __future__ import annotations

import pytest

from domain.cards import is_valid_card_number
from tests.support import Api

ME = """{ me { id cardNumber displayName referralCode email phone birthday joinedAt
  tier { rank name } } }"""


@pytest.mark.asyncio
async def test_enroll_creates_member_with_card_and_referral_code(api: Api) -> None:
    # given a member token whose subject has not enrolled
    token = api.member("alice")
    assert (await api.ok(ME, token=token))["me"] is None

    # when the subject enrolls with contact details
    data = await api.ok(
        """mutation($input: EnrollInput!) { enroll(input: $input) {
             member { id cardNumber referralCode displayName }
             errors { code field message } } }""",
        {
            "input": {
                "displayName": "  Alice  ",
                "email": "Alice@Example.COM",
                "phone": "+49 151 23456789",
                "birthday": "1990-05-17",
            }
        },
        token,
    )

    # then a member exists with a Luhn-valid card number and normalised contact data
    payload = data["enroll"]
    assert payload["errors"] == []
    member = payload["member"]
    assert is_valid_card_number(member["cardNumber"])
    assert len(member["referralCode"]) == 8
    me = (await api.ok(ME, token=token))["me"]
    assert me["id"] == member["id"]
    assert me["displayName"] == "Alice"
    assert me["email"] == "Alice@example.com"
    assert me["phone"] == "+4915123456789"
    assert me["birthday"] == "1990-05-17"
    assert me["tier"] == {"rank": 0, "name": "Member"}


ENROLL = """mutation($input: EnrollInput!) { enroll(input: $input) {
  member { id cardNumber referralCode displayName joinedAt tier { name } }
  errors { code field message } } }"""


@pytest.mark.asyncio
async def test_a_retried_enrollment_answers_the_member_it_made(api: Api) -> None:
    # given an enrollment whose answer the app lost
    referrer = await api.enroll("rita")
    token = api.member("sam")
    asked = {
        "displayName": " Sam ",
        "email": "Sam@Example.com",
        "phone": "+49 151 99999999",
        "birthday": "1991-02-03",
        "referralCode": referrer["referralCode"].lower(),
    }
    first = (await api.ok(ENROLL, {"input": asked}, token))["enroll"]
    assert first["errors"] == []
    # when the app sends the same enrollment again (spelled as the user typed it)
    again = (await api.ok(ENROLL, {"input": {**asked, "displayName": "Sam"}}, token))["enroll"]
    # then it gets the same payload: the member the first enrollment made
    assert again == first
    assert (await api.ok(ME, token=token))["me"]["id"] == first["member"]["id"]
    # a different enrollment by the same subject is ALREADY_ENROLLED, and changes nothing
    for changed in ({"email": "other@example.com"}, {"referralCode": None}, {"birthday": None}):
        refused = (await api.ok(ENROLL, {"input": {**asked, **changed}}, token))["enroll"]
        assert refused["member"] is None
        assert [e["code"] for e in refused["errors"]] == ["ALREADY_ENROLLED"], changed
    assert (await api.ok(ME, token=token))["me"]["email"] == "Sam@example.com"


@pytest.mark.asyncio
async def test_enrolling_twice_is_already_enrolled_and_changes_nothing(api: Api) -> None:
    first = await api.enroll("bob")
    data = await api.ok(
        'mutation { enroll(input: {displayName: "Other"}) { member { id } errors { code } } }',
        token=api.member("bob"),
    )
    assert data["enroll"] == {"member": None, "errors": [{"code": "ALREADY_ENROLLED"}]}
    me = (await api.ok("{ me { id displayName } }", token=api.member("bob")))["me"]
    assert me == {"id": first["id"], "displayName": "Bob"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, ["input", "email"]),
        ({"phone": "12345"}, ["input", "phone"]),
        ({"displayName": "x" * 81}, ["input", "displayName"]),
        ({"displayName": "bad\u0000name"}, ["input", "displayName"]),
        ({"birthday": "2999-01-01"}, ["input", "birthday"]),
        ({"referralCode": "NOPE1234"}, ["input", "referralCode"]),
    ],
)
async def test_bad_enrollment_input_is_refused_with_field_and_nothing_written(
    api: Api, fields: dict, field: list[str]
) -> None:
    data = await api.ok(
        """mutation($input: EnrollInput!) { enroll(input: $input) {
             member { id } errors { code field message } } }""",
        {"input": fields},
        api.member("carol"),
    )
    errors = data["enroll"]["errors"]
    assert data["enroll"]["member"] is None
    assert len(errors) == 1 and errors[0]["field"] == field
    assert errors[0]["code"] in ("INVALID_INPUT", "REFERRAL_INVALID")
    assert (await api.ok("{ me { id } }", token=api.member("carol")))["me"] is None


@pytest.mark.asyncio
async def test_referral_code_of_another_member_is_accepted_but_not_ones_own_email(
    api: Api,
) -> None:
    referrer = await api.enroll("dora", email="dora@example.com")
    # the same email as the referrer is a self-referral
    data = await api.ok(
        """mutation($input: EnrollInput!) { enroll(input: $input) { errors { code } } }""",
        {"input": {"referralCode": referrer["referralCode"], "email": "dora@example.com"}},
        api.member("dora-2"),
    )
    assert data["enroll"]["errors"] == [{"code": "REFERRAL_INVALID"}]
    # a genuine friend may use it, in any letter case
    friend = await api.enroll("eve", referralCode=referrer["referralCode"].lower())
    assert friend["id"] != referrer["id"]


@pytest.mark.asyncio
async def test_only_member_tokens_enroll(api: Api) -> None:
    body = await api.raw("mutation { enroll(input: {}) { errors { code } } }", token=api.staff())
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

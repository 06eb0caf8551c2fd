"""Referral rules without a database: who is the same person, what a referral starts as,
which milestones are due, and which settings are refused."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from domain.referrals import (
    Milestone,
    ReferralReason,
    ReferralSettings,
    ReferralStatus,
    comparable_email,
    due_milestones,
    initial_status,
    link,
    next_milestone,
    same_person,
    validate_settings,
)

GMAIL = ("gmail.com",)


@pytest.mark.parametrize(
    ("email", "domains", "expected"),
    [
        ("J.Doe+promo@Gmail.com", GMAIL, "jdoe@gmail.com"),
        ("J.Doe+promo@example.com", GMAIL, "j.doe+promo@example.com"),
        ("Ann@Example.COM", (), "ann@example.com"),
        (None, GMAIL, None),
    ],
)
def test_comparable_email(email: str | None, domains: tuple[str, ...], expected: str) -> None:
    assert comparable_email(email, domains) == expected


def test_same_person_by_email_or_phone_but_not_by_nothing() -> None:
    assert same_person("a.b+x@gmail.com", None, "AB@gmail.com", None, GMAIL)
    assert same_person(None, "+4915123456789", "x@y.z", "+4915123456789", GMAIL)
    assert not same_person(None, None, None, None, GMAIL)
    assert not same_person("a.b@example.com", None, "ab@example.com", None, GMAIL)


@pytest.mark.parametrize(
    ("blocked", "over_cap", "device", "expected"),
    [
        (False, False, False, (ReferralStatus.PENDING, None)),
        (True, True, True, (ReferralStatus.VOID, ReferralReason.REFERRER_BLOCKED)),
        (False, True, True, (ReferralStatus.VOID, ReferralReason.MONTHLY_CAP)),
        (False, False, True, (ReferralStatus.HELD_FOR_REVIEW, ReferralReason.SAME_DEVICE)),
    ],
)
def test_initial_status(blocked: bool, over_cap: bool, device: bool, expected: tuple) -> None:
    assert (
        initial_status(referrer_blocked=blocked, over_cap=over_cap, same_device=device) == expected
    )


def test_milestones_due_once_and_the_next_one() -> None:
    ladder = (Milestone(5, 100), Milestone(10, 300), Milestone(25, 1000))
    assert due_milestones(ladder, 4, set()) == []
    assert due_milestones(ladder, 10, {5}) == [Milestone(10, 300)]
    assert due_milestones(ladder, 10, {5, 10}) == []
    assert next_milestone(ladder, 10) == Milestone(25, 1000)
    assert next_milestone(ladder, 25) is None


def test_settings_are_normalised() -> None:
    settings = validate_settings(
        ReferralSettings(
            milestones=(Milestone(10, 1), Milestone(5, 1)),
            normalised_domains=(" Gmail.com", "gmail.com"),
            link_template=" https://brand.example/r/{code} ",
        ),
        ("input",),
    )
    assert [m.count for m in settings.milestones] == [5, 10]
    assert settings.normalised_domains == ("gmail.com",)
    assert link(settings.link_template, "ABC") == "https://brand.example/r/ABC"
    assert link(None, "ABC") is None


def test_a_link_without_the_code_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_settings(ReferralSettings(link_template="https://x.example/"), ("input",))
    assert refused.value.field == ("input", "linkTemplate")

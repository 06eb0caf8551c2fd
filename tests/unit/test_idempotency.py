"""Idempotency decisions: same request replays, a different one conflicts."""

from __future__ import annotations

import pytest

from domain.errors import IdempotencyConflict, InvalidInput
from domain.idempotency import IdempotencyRecord, fingerprint, replay, validate_key


def test_fingerprint_ignores_key_order_but_not_values() -> None:
    assert fingerprint({"a": 1, "b": "x"}) == fingerprint({"b": "x", "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    assert fingerprint({"a": None}) != fingerprint({})


def test_replay_returns_the_stored_answer_for_the_same_request() -> None:
    record = IdempotencyRecord("purchase", "o-1", fingerprint({"amount": 5}), {"points": 50})
    assert replay(record, fingerprint({"amount": 5}), ("input", "orderId")) == {"points": 50}


def test_replay_of_a_different_request_is_a_conflict_naming_the_field() -> None:
    record = IdempotencyRecord("purchase", "o-1", fingerprint({"amount": 5}), {"points": 50})
    with pytest.raises(IdempotencyConflict) as raised:
        replay(record, fingerprint({"amount": 6}), ("input", "orderId"))
    assert raised.value.field == ("input", "orderId")


@pytest.mark.parametrize("key", ["", "   ", "x" * 201, "bad\nkey"])
def test_bad_keys_are_invalid_input(key: str) -> None:
    with pytest.raises(InvalidInput):
        validate_key(key, ("input", "idempotencyKey"))


def test_keys_are_trimmed() -> None:
    assert validate_key("  order-1 ", ("f",)) == "order-1"

"""Log levels: client errors are info lines without tracebacks, server errors are errors."""

from __future__ import annotations

import logging

import pytest

from persistence.repositories.members import SqlMemberRepository
from tests.support import Api


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.asyncio
async def test_client_errors_are_logged_at_info_without_a_traceback(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # given four kinds of client mistakes: no token, another role's field, a syntax error,
    # an unknown field, and a value its type refuses
    calls = [
        ("{ me { id } }", None, None),
        ("{ auditLog(first: 1) { edges { node { id } } } }", None, api.member("mia")),
        ("{ me { id ", None, api.member("mia")),
        ("{ me { nope } }", None, api.member("mia")),
        (
            "query($n: Int) { rewards(first: $n) { edges { node { id } } } }",
            {"n": "many"},
            api.member("mia"),
        ),
    ]
    for query, variables, token in calls:
        # when each is sent
        body = await api.raw(query, variables, token)
        assert body["errors"], body
    # then nothing is logged at warning or above; a refused document or value is one info
    # line with its code (access errors are answered, not logged)
    assert _errors(caplog) == []
    client = [r for r in caplog.records if r.getMessage() == "client error"]
    codes = [r.fields["code"] for r in client]  # type: ignore[attr-defined]
    assert codes == [
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "BAD_USER_INPUT",
    ]
    assert all(r.exc_info is None for r in client)


@pytest.mark.asyncio
async def test_an_internal_error_is_logged_once_at_error_with_its_traceback(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(SqlMemberRepository, "get_with_wallet_by_subject", broken)
    body = await api.raw("{ me { id } }", token=api.member("alice"))
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    errors = _errors(caplog)
    assert len(errors) == 1 and errors[0].levelno == logging.ERROR
    assert errors[0].exc_info is not None and "boom" in str(errors[0].exc_info[1])

"""The `loyalty` command as operators and `make run` use it, on an empty database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import jwt
import pytest

from api.app import create_app
from api.auth import principal_from_claims
from api.runtime import Runtime
from api.settings import Settings
from tests.support import Api


def run_cli(*args: str, url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    environment.update(LOYALTY_DATABASE_URL=url, **env)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=cwd,
        env={**environment, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def cli(*args: str, url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run_cli, *args, url=url, cwd=cwd, **env)


@pytest.mark.asyncio
async def test_migrate_then_demo_seeds_an_empty_database_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    if empty_database_url.startswith("sqlite"):
        empty_database_url = f"sqlite:///{tmp_path / 'not-yet' / 'var' / 'demo.db'}"
    # given an empty database (in a folder that does not exist yet, like var/ on a fresh
    # clone): migrate creates the schema, and running it twice is harmless
    for _ in range(2):
        result = await cli("migrate", url=empty_database_url, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    # when the demo is seeded twice
    first = await cli("demo", url=empty_database_url, cwd=tmp_path)
    second = await cli("demo", url=empty_database_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "seeded" in first.stdout and "exists already" in second.stdout
    # then the demo program is there with tiers, members and balances (read with the
    # secret the CLI generated into var/ of its working directory)
    runtime = Runtime.from_settings(
        Settings(database_url=empty_database_url, var_dir=tmp_path / "var", _env_file=None)
    )
    try:
        async with runtime.reader() as uow:
            program = await uow.programs.get_by_slug("demo")
            assert program is not None and program.points_name == "beans"
            assert [t.name for t in await uow.tiers.all(program.id)] == [
                "Member",
                "Silver",
                "Gold",
            ]
            alice = await uow.members.get_by_subject(program.id, "alice")
            assert alice is not None
            wallet = await uow.ledger.wallet(program.id, alice.id)
            # her first order lifted her to Silver (1,000), whose 1.25x applied to the next
            # (plus 500 for Dave, a friend she referred, whose first purchase qualified)
            assert wallet is not None and wallet.lifetime_earned == 1250 + 499 * 125 // 100 + 500
            referred = await uow.referrals.of_referrer(program.id, alice.id, limit=5, before=None)
            assert sorted((r.status.value, name) for r, name in referred) == [
                ("PENDING", "Erin Example"),
                ("QUALIFIED", "Dave Example"),
            ]
            # and a free cookie (150) redeemed, so the app shows a voucher
            assert wallet.balance == wallet.lifetime_earned - 150
            silver = next(t for t in await uow.tiers.all(program.id) if t.name == "Silver")
            assert alice.tier_id == silver.id
            # and the monthly leaderboard is on, with the demo members on it
            assert (await uow.leaderboard.settings(program.id)).enabled
            assert await uow.leaderboard.opted_in(program.id, alice.id)
        # and the printed member token reads Alice's catalog and her voucher through the API
        token = next(
            line.split(": ", 1)[1]
            for line in first.stdout.splitlines()
            if line.strip().startswith("member alice:")
        )
        transport = httpx.ASGITransport(app=create_app(runtime))
        client = httpx.AsyncClient(transport=transport, base_url="http://test")
        api = Api(client=client, runtime=runtime, program="demo")
        data = await api.ok(
            """{ me { displayName redemptions { edges { node { reward { name } status } } }
                      actions { key canEarnNow } }
                 rewards(first: 20) { edges { node { name kind partner { name } } } } }""",
            token=token,
        )
        assert data["me"]["displayName"] == "Alice Example"
        # and the "earn more" screen lists the seeded actions (the signup bonus is paid on
        # enrolling only, so it is not among them)
        assert [a["key"] for a in data["me"]["actions"]] == [
            "birthday",
            "newsletter",
            "instagram-follow",
            "review",
        ]
        vouchers = [e["node"] for e in data["me"]["redemptions"]["edges"]]
        assert vouchers == [{"reward": {"name": "Free cookie"}, "status": "ISSUED"}]
        rewards = [e["node"] for e in data["rewards"]["edges"]]
        assert {r["kind"] for r in rewards} == {
            "FIXED_DISCOUNT",
            "PERCENT_DISCOUNT",
            "FREE_SHIPPING",
            "FREE_PRODUCT",
            "DONATION",
            "EXPERIENCE",
        }
        assert {"name": "Cinema City"} in [r["partner"] for r in rewards]
        # and the running campaign doubles drinks, which the admin token can preview
        admin_token = next(
            line.split(": ", 1)[1]
            for line in first.stdout.splitlines()
            if line.strip().startswith("admin:")
        )
        me = await api.ok("{ me { id } }", token=token)
        preview = """mutation($input: PreviewEarnInput!) { previewEarn(input: $input) {
            pointsEarned errors { code } } }"""
        earned = {}
        for category in ("drinks", "food"):
            line = {"sku": "x", "category": category, "unitPriceMinor": 1_000}
            answer = await api.ok(
                preview,
                {
                    "input": {
                        "memberId": me["me"]["id"],
                        "total": {"amountMinor": 1_000, "currency": "EUR"},
                        "lines": [line],
                    }
                },
                admin_token,
            )
            earned[category] = answer["previewEarn"]["pointsEarned"]
        assert earned["drinks"] >= 2 * earned["food"] > 0
        await client.aclose()
    finally:
        await runtime.db.dispose()


@pytest.mark.asyncio
async def test_program_create_validates_and_refuses_duplicates(
    empty_database_url: str, tmp_path: Path
) -> None:
    assert (await cli("migrate", url=empty_database_url, cwd=tmp_path)).returncode == 0
    ok = await cli(
        "program",
        "create",
        "shoes",
        "--name",
        "Shoe Club",
        "--currency",
        "chf",
        url=empty_database_url,
        cwd=tmp_path,
    )
    assert ok.returncode == 0 and "created program shoes" in ok.stdout
    again = await cli(
        "program",
        "create",
        "shoes",
        "--name",
        "Again",
        "--currency",
        "CHF",
        url=empty_database_url,
        cwd=tmp_path,
    )
    assert again.returncode == 1 and "exists already" in again.stderr
    bad = await cli(
        "program",
        "create",
        "Bad Slug!",
        "--name",
        "X",
        "--currency",
        "ZZZ",
        url=empty_database_url,
        cwd=tmp_path,
    )
    assert bad.returncode == 1


def test_token_is_signed_with_the_secret_generated_once_under_var(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    first = run_cli(
        "token",
        "--program",
        "demo",
        "--role",
        "staff",
        "--sub",
        "e1",
        "--store",
        "s1",
        url=url,
        cwd=tmp_path,
    )
    second = run_cli(
        "token",
        "--program",
        "demo",
        "--role",
        "member",
        "--sub",
        "alice",
        "--ttl",
        "60",
        url=url,
        cwd=tmp_path,
    )
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    secret_file = tmp_path / "var" / "jwt-secret"
    secret = secret_file.read_text().strip()
    assert len(secret) >= 40 and oct(secret_file.stat().st_mode)[-3:] == "600"
    options = {"audience": "loyalty-api", "issuer": "loyalty", "algorithms": ["HS256"]}
    staff = jwt.decode(first.stdout.strip(), secret, **options)
    member = jwt.decode(second.stdout.strip(), secret, **options)
    assert (staff["role"], staff["sub"], staff["store"], staff["program"]) == (
        "staff",
        "e1",
        "s1",
        "demo",
    )
    assert member["exp"] - member["iat"] == 60
    # a staff token without a store is refused
    refused = run_cli(
        "token", "--program", "demo", "--role", "staff", "--sub", "e1", url=url, cwd=tmp_path
    )
    assert refused.returncode == 2


def test_token_for_the_web_shop(tmp_path: Path) -> None:
    # when an operator mints the web shop's token as the README shows
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    minted = run_cli(
        "token", "--program", "demo", "--role", "shop", "--sub", "webshop", url=url, cwd=tmp_path
    )
    # then it is a shop token, and the API takes it for the shop role
    assert minted.returncode == 0, minted.stderr
    secret = (tmp_path / "var" / "jwt-secret").read_text().strip()
    options = {"audience": "loyalty-api", "issuer": "loyalty", "algorithms": ["HS256"]}
    claims = jwt.decode(minted.stdout.strip(), secret, **options)
    principal = principal_from_claims(claims)
    assert (principal.role.value, principal.actor, principal.program_slug) == (
        "shop",
        "shop:webshop",
        "demo",
    )


GC_PROBE = """
import asyncio, gc, sys
from api.app import create_app
from api.settings import Settings

async def main():
    app = create_app(settings=Settings(database_url=sys.argv[1], _env_file=None))
    async with app.router.lifespan_context(app):
        print(gc.get_threshold()[2], gc.get_freeze_count() > 0)

asyncio.run(main())
"""


@pytest.mark.parametrize(("tuning", "expected"), [("true", "10000 True"), ("false", "10 False")])
def test_the_server_keeps_full_garbage_collections_rare_unless_told_not_to(
    tmp_path: Path, tuning: str, expected: str
) -> None:
    # `loyalty serve` sets LOYALTY_GC_TUNING=true unless the operator set it; the app's
    # startup then freezes startup objects and raises the full-collection threshold
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    result = subprocess.run(
        [sys.executable, "-c", GC_PROBE, f"sqlite:///{tmp_path / 'gc.db'}"],
        cwd=tmp_path,
        env={
            **environment,
            "LOYALTY_GC_TUNING": tuning,
            "LOYALTY_LIVE_UPDATES": "false",
            "LOYALTY_VAR_DIR": str(tmp_path / "var"),
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()

"""The `loyalty` command as an operator meets it: one-line errors naming the setting to fix,
production mode refusing to guess secrets, migrate saying what it did, settings for serve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.live_support import free_port
from tests.api.test_http import scrape
from tests.conftest import POSTGRES_URL
from tests.integration.test_cli import run_cli

STRONG = "s" * 40


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "LOYALTY_JWKS_URL (token keys)"),
        ({"LOYALTY_JWT_SECRET": STRONG}, "LOYALTY_CARD_KEY"),
        ({"LOYALTY_JWT_SECRET": STRONG, "LOYALTY_CARD_KEY": STRONG}, "postgresql://"),
        ({"LOYALTY_JWT_SECRET": "short", "LOYALTY_CARD_KEY": STRONG}, "at least 32 bytes"),
    ],
)
def test_production_mode_refuses_to_serve_without_each_setting(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    # given production mode and a missing setting
    result = run_cli(
        "serve",
        url=f"sqlite:///{tmp_path / 'x.db'}",
        cwd=tmp_path,
        LOYALTY_PRODUCTION="true",
        **env,
    )
    # then the server does not start, says which setting in one line, and writes no secret
    assert result.returncode == 2
    assert named in _one_line_error(result)
    assert not (tmp_path / "var" / "jwt-secret").exists()
    assert not (tmp_path / "var" / "card-key").exists()


def test_production_tokens_are_never_signed_with_a_generated_secret(tmp_path: Path) -> None:
    result = run_cli(
        "token",
        "--program",
        "demo",
        "--role",
        "admin",
        "--sub",
        "x",
        url=f"sqlite:///{tmp_path / 'x.db'}",
        cwd=tmp_path,
        LOYALTY_PRODUCTION="true",
    )
    assert result.returncode == 2 and "LOYALTY_JWT_SECRET" in _one_line_error(result)
    assert not (tmp_path / "var").exists()


def test_migrate_says_from_which_revision_to_which(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    first = run_cli("migrate", url=url, cwd=tmp_path)
    second = run_cli("migrate", url=url, cwd=tmp_path)
    assert first.returncode == 0 and "from revision none (empty) to " in first.stdout
    head = first.stdout.strip().rsplit(" ", 1)[1]
    assert second.stdout.strip() == f"database is up to date (revision {head})"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "LOYALTY_DATABASE_URL is not a database URL"),
        (POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database_here", "does not exist"),
        ("postgresql://postgres@127.0.0.1:1/x", "LOYALTY_DATABASE_URL=postgresql://"),
    ],
)
def test_a_database_that_cannot_be_used_is_one_line(tmp_path: Path, url: str, says: str) -> None:
    result = run_cli("migrate", url=url, cwd=tmp_path)
    assert result.returncode == 1
    assert says in _one_line_error(result)


def test_bad_setting_values_and_bad_jwks_are_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    port = run_cli("migrate", url=url, cwd=tmp_path, LOYALTY_PORT="eighty")
    assert port.returncode == 2 and "LOYALTY_PORT" in _one_line_error(port)
    (tmp_path / "keys.json").write_text("{not json")
    jwks = run_cli("demo", url=url, cwd=tmp_path, LOYALTY_JWKS_FILE=str(tmp_path / "keys.json"))
    assert jwks.returncode == 2 and "LOYALTY_JWKS_FILE" in _one_line_error(jwks)


def test_version_and_help_show_defaults(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    version = run_cli("--version", url=url, cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("loyalty ")
    jobs = run_cli("jobs", "--help", url=url, cwd=tmp_path)
    assert "(default: 60.0)" in jobs.stdout
    serve = run_cli("serve", "--help", url=url, cwd=tmp_path)
    assert "LOYALTY_PORT" in serve.stdout and "--wait-for-database" in serve.stdout


def test_serve_takes_host_and_port_from_settings_and_stops_on_sigterm(tmp_path: Path) -> None:
    # given a migrated database and LOYALTY_PORT
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert run_cli("migrate", url=url, cwd=tmp_path).returncode == 0
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    environment.update(LOYALTY_DATABASE_URL=url, LOYALTY_PORT=str(port))
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve"],
        cwd=tmp_path,
        env={**environment, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # when it starts, it answers on that port
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer on LOYALTY_PORT")
    finally:
        # and SIGTERM stops it promptly (uvicorn shuts down gracefully, then re-raises
        # the signal so the exit status tells a supervisor why it stopped)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) in (0, -signal.SIGTERM)


def test_serve_gives_up_on_an_unreachable_database_with_one_line(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_cli(
        "serve",
        "--wait-for-database",
        "1",
        url="postgresql://postgres@127.0.0.1:1/x",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "LOYALTY_DATABASE_URL" in result.stderr.strip().splitlines()[-1]
    assert time.monotonic() - started < 30


def test_two_workers_log_json_lines_and_report_one_set_of_metrics(tmp_path: Path) -> None:
    # given a server with two worker processes
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert run_cli("migrate", url=url, cwd=tmp_path).returncode == 0
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    environment.update(LOYALTY_DATABASE_URL=url, PYTHONPATH=str(Path(__file__).parents[2]))
    log_file = tmp_path / "serve.log"
    with log_file.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(150):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            labels = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
            text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            before = scrape(text)[("loyalty_http_requests_total", labels)]
            # when requests arrive
            for n in range(20):
                headers = {"X-Request-ID": f"req-{n}"}
                httpx.get(f"http://127.0.0.1:{port}/healthz", headers=headers)
            # then every scrape, whichever worker answers it, counts all 20 (the
            # workers' values are summed, not one worker's)
            for _ in range(6):
                text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
                assert scrape(text)[("loyalty_http_requests_total", labels)] == before + 20
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
    # then every line is a JSON object, both workers logged, and requests carry their id
    records = [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]
    started = {r["pid"] for r in records if r["message"].startswith("Started server process")}
    assert len(started) == 2, records
    seen = {r.get("request_id") for r in records if r["message"] == "request"}
    assert {f"req-{n}" for n in range(20)} <= seen


def test_jobs_log_json_lines_with_time_and_level(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    assert run_cli("migrate", url=url, cwd=tmp_path).returncode == 0
    result = run_cli("jobs", "--once", url=url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    run = next(r for r in records if r["message"] == "jobs run")
    assert run["level"] == "info" and run["time"] and run["logger"] == "loyalty.jobs"
    assert run["released_points"] == 0 and "duration_ms" in run


def test_jobs_serve_their_metrics_on_their_own_port(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jm.db'}"
    assert run_cli("migrate", url=url, cwd=tmp_path).returncode == 0
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    environment.update(
        LOYALTY_DATABASE_URL=url,
        LOYALTY_JOBS_METRICS_PORT=str(port),
        PYTHONPATH=str(Path(__file__).parents[2]),
    )
    jobs = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "jobs", "--interval", "0.2"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        runs = 0.0
        for _ in range(150):
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
                runs = scrape(text).get(("loyalty_job_runs_total", ()), 0.0)
                if runs >= 2:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        assert runs >= 2
        assert ("loyalty_job_items_total", (("kind", "released_points"),)) in scrape(text)
    finally:
        jobs.send_signal(signal.SIGTERM)
        jobs.wait(timeout=15)

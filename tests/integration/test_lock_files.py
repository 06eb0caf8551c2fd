"""requirements.lock and requirements-dev.lock must pin what pyproject.toml asks for.

`make run` and `make test` install only from the lock files (the project itself with
--no-deps), so a dependency added to pyproject.toml without `make lock` would be missing.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SERVING = [Requirement(r) for r in PROJECT["dependencies"]]
DEV = SERVING + [Requirement(r) for r in PROJECT["optional-dependencies"]["dev"]]
STALE = "run `make lock` and commit requirements.lock and requirements-dev.lock"


def pins(text: str) -> dict[str, list[Requirement]]:
    """Every `name==version ; marker` of a lock file (one name may be pinned per marker)."""
    found: dict[str, list[Requirement]] = {}
    for line in text.splitlines():
        if not line or line[0] in " #-":
            continue
        pin = Requirement(line.rstrip(" \\"))
        found.setdefault(canonicalize_name(pin.name), []).append(pin)
    return found


def disagreements(
    requirements: list[Requirement], locked: dict[str, list[Requirement]]
) -> list[str]:
    problems = []
    for req in requirements:
        name = canonicalize_name(req.name)
        if name not in locked:
            problems.append(f"{req} is not pinned")
            continue
        for pin in locked[name]:
            (spec,) = pin.specifier
            if not req.specifier.contains(spec.version, prereleases=True):
                problems.append(f"{req} but the lock pins {pin}")
        # The extras' own dependencies (uvicorn[standard] -> uvloop ...), from the
        # installed metadata of the pinned release.
        for extra in req.extras:
            for dep in map(Requirement, metadata.requires(req.name) or []):
                if dep.marker is None or not dep.marker.evaluate({"extra": extra}):
                    continue
                if canonicalize_name(dep.name) not in locked:
                    problems.append(f"{dep.name} (from {req.name}[{extra}]) is not pinned")
    return problems


@pytest.mark.parametrize(
    ("lock_file", "requirements"),
    [("requirements.lock", SERVING), ("requirements-dev.lock", DEV)],
)
def test_lock_file_pins_every_dependency_within_its_bounds(
    lock_file: str, requirements: list[Requirement]
) -> None:
    locked = pins((ROOT / lock_file).read_text())
    problems = disagreements(requirements, locked)
    assert problems == [], f"{STALE}: {problems}"


def test_lock_files_pin_each_shared_package_to_the_same_release() -> None:
    # `make test` after `make run` adds the test tools without changing what serving runs.
    serving = pins((ROOT / "requirements.lock").read_text())
    dev = pins((ROOT / "requirements-dev.lock").read_text())

    # the same release; markers may differ (a dev package can need one on more platforms)
    def releases(found: dict[str, list[Requirement]], name: str) -> set[str]:
        return {str(r.specifier) for r in found.get(name, [])}

    differing = [name for name in serving if releases(serving, name) != releases(dev, name)]
    assert differing == [], STALE


def test_a_dependency_missing_or_below_its_bound_is_reported() -> None:
    # given a lock that lacks one dependency and pins another below pyproject's bound
    lock = "starlette==0.46.0 \\\n    --hash=sha256:00\n    # via loyalty\n"
    # when it is checked against pyproject's lower bounds
    problems = disagreements(
        [Requirement("starlette>=1.0"), Requirement("orjson>=3.10")], pins(lock)
    )
    # then both are named
    assert problems == [
        "starlette>=1.0 but the lock pins starlette==0.46.0",
        "orjson>=3.10 is not pinned",
    ]

"""requirements.lock, what the image installs with --require-hashes, covers pyproject.toml."""
from __future__ import annotations

import re
import tomllib
from importlib.metadata import requires
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def locked() -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes), from the lock's continuation-line format."""
    pins: dict[str, tuple[str, int]] = {}
    current = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if m := PIN.match(line):
            current = canonicalize_name(m.group(1))
            pins[current] = (m.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def wanted() -> list[Requirement]:
    """The runtime dependencies and the build backend (the image builds with --no-build-isolation)."""
    data = project()
    build = (ROOT / "deploy" / "build-requirements.in").read_text().split("\n")
    return [Requirement(r) for r in [*data["project"]["dependencies"], *data["build-system"]["requires"],
                                    *(line for line in build if line.strip() and not line.startswith("#"))]]


def test_every_dependency_is_locked_at_a_version_it_allows():
    pins = locked()
    missing = [str(r) for r in wanted() if canonicalize_name(r.name) not in pins]
    assert missing == []
    outside = [(str(r), pins[canonicalize_name(r.name)][0]) for r in wanted()
               if not r.specifier.contains(pins[canonicalize_name(r.name)][0], prereleases=True)]
    assert outside == []


def test_extras_are_locked_too():
    """uvicorn[standard], sqlalchemy[asyncio]: what each extra pulls in on Linux is in the lock."""
    pins = locked()
    linux = {**default_environment(), "sys_platform": "linux", "platform_system": "Linux"}
    gaps = []
    for r in wanted():
        for extra in r.extras:
            for dep in map(Requirement, requires(r.name) or []):
                if (dep.marker and dep.marker.evaluate({**linux, "extra": extra}) and not dep.marker.evaluate({**linux, "extra": ""})
                        and canonicalize_name(dep.name) not in pins):
                    gaps.append(f"{r.name}[{extra}] -> {dep}")
    assert gaps == []


def test_every_pin_has_hashes_and_the_lock_says_how_it_was_made():
    pins = locked()
    assert len(pins) > 30 and [name for name, (_, hashes) in pins.items() if hashes == 0] == []
    header = (ROOT / "requirements.lock").read_text().splitlines()[:2]
    assert "uv pip compile pyproject.toml deploy/build-requirements.in --universal" in header[1]
    assert "--generate-hashes" in header[1]
    assert "propdesk" not in pins, "the project itself is installed from the source, not the lock"

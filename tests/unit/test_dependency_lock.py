"""deploy/requirements.lock: the image's whole dependency tree, pinned with hashes, agreeing with
the direct pins in pyproject.toml; the Dockerfile installs nothing else."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "deploy" / "requirements.lock"
BUILD_INPUT = ROOT / "deploy" / "requirements-build.in"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = _PIN.match(line.strip())
        if match:
            found[normalized(match.group(1))] = match.group(2)
    return found


def locked() -> dict[str, list[str]]:
    """Each locked package (name==version) and its hashes."""
    entries: dict[str, list[str]] = {}
    current = None
    for line in LOCK.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            match = _PIN.match(line)
            assert match, f"not an exact pin: {line}"
            current = f"{normalized(match.group(1))}=={match.group(2)}"
            entries[current] = []
        elif current and line.strip().startswith("--hash=sha256:"):
            entries[current].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return entries


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_direct_pin_of_pyproject_is_locked_at_the_same_version() -> None:
    lock = pins(list(locked()))
    direct = pins(pyproject()["project"]["dependencies"])
    assert direct, "pyproject.toml pins its dependencies exactly"
    assert {name: lock.get(name) for name in direct} == direct


def test_the_build_requirements_are_locked_too() -> None:
    build = pins(pyproject()["build-system"]["requires"])
    assert pins(BUILD_INPUT.read_text().splitlines()) == build
    lock = pins(list(locked()))
    assert {name: lock.get(name) for name in build} == build


def test_every_locked_package_has_hashes_and_no_extra_is_locked() -> None:
    entries = locked()
    assert len(entries) > 20  # the whole tree, not only the direct pins
    for entry, hashes in entries.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), entry
    optional = pyproject()["project"]["optional-dependencies"]
    extras_only = {normalized(n) for n in pins([d for ds in optional.values() for d in ds])}
    assert extras_only.isdisjoint(pins(list(entries))), "the image holds no dev or demo extra"


def test_the_lock_says_how_it_was_made_from_pyproject() -> None:
    header = LOCK.read_text().splitlines()[:3]
    command = next(line for line in header if "uv pip compile" in line)
    assert "pyproject.toml" in command and "deploy/requirements-build.in" in command
    assert "--generate-hashes" in command and "-o deploy/requirements.lock" in command
    dev = pins(pyproject()["project"]["optional-dependencies"]["dev"])
    assert "uv" in dev  # the tool that writes it is pinned


def test_the_image_installs_only_from_the_lock_with_hashes() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "pip install --no-deps --no-build-isolation --no-index ." in dockerfile
    installs = re.findall(r"pip install[^\n&]*", dockerfile)
    assert len(installs) == 2, installs

"""The wheel that `pip install .` builds holds every module of the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import promptslim

ROOT = Path(__file__).resolve().parents[1]
# source folder -> the import name it installs under
INSTALLED_AS = {"promptslim": "promptslim", "cli": "promptslim_cli"}


def source_modules() -> set[str]:
    found = set()
    for folder, name in INSTALLED_AS.items():
        for path in (ROOT / folder).rglob("*.py"):
            found.add(f"{name}/{path.relative_to(ROOT / folder).as_posix()}")
    return found


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("promptslim-*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def test_wheel_holds_every_module(wheel_files):
    missing = sorted(source_modules() - wheel_files)
    assert not missing, f"the wheel leaves out {missing}"


def test_wheel_declares_the_console_script(wheel_files):
    assert any(name.endswith(".dist-info/entry_points.txt") for name in wheel_files)


def test_version_comes_from_the_installed_metadata():
    from importlib.metadata import version

    assert promptslim.__version__ == version("promptslim")

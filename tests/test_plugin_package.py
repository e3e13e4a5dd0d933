"""A built wheel carries the plugin bundle byte for byte, so install-plugin works without a checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from codex_self_iter.plugin.marketplace import BUNDLE_DIR

REPO_ROOT = Path(__file__).resolve().parents[1]
MIN_SETUPTOOLS = 77


def source_copy(target: Path) -> Path:
    """The files a wheel build reads, copied so the build writes nothing into the checkout."""
    target.mkdir()
    shutil.copy2(REPO_ROOT / "pyproject.toml", target)
    readme = REPO_ROOT / "README.md"
    if readme.exists():
        shutil.copy2(readme, target)
    else:
        (target / "README.md").write_text("# codex-self-iter\n", encoding="utf-8")
    for licence in REPO_ROOT.glob("LICEN[CS]E*"):
        shutil.copy2(licence, target)
    shutil.copytree(REPO_ROOT / "src", target / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return target


@pytest.mark.timeout(300)
def test_wheel_ships_the_plugin_bundle(tmp_path: Path) -> None:
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < MIN_SETUPTOOLS:
        pytest.skip(f"building offline needs setuptools>={MIN_SETUPTOOLS} here (found {setuptools.__version__})")
    source = source_copy(tmp_path / "source")
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run(
        [*pip, "-w", str(dist), str(source)],
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=240,
    )
    (wheel,) = dist.glob("codex_self_iter-*.whl")
    bundled = {p.relative_to(BUNDLE_DIR).as_posix(): p.read_bytes() for p in BUNDLE_DIR.rglob("*") if p.is_file()}
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.removeprefix("codex_self_iter/plugin_bundle/"): archive.read(name)
            for name in archive.namelist()
            if name.startswith("codex_self_iter/plugin_bundle/")
        }
    assert shipped == bundled

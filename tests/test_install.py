"""The README's install, for real: build the wheel, install it into a fresh virtualenv, then run the installed
`codex-self-iter` (--help, init, and the quickstart's demo loop) from outside the checkout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.test_plugin_package import MIN_SETUPTOOLS, REPO_ROOT, source_copy

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def test_the_readme_says_how_to_install_with_pip_and_pipx() -> None:
    section = README.split("## Install", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)[0]
    for form in ("pipx install /path/to/codex-self-iter", 'pipx install "git+', "python3 -m pip install /path/to"):
        assert form in commands
    assert 'python3 -m pip install "git+' in commands


@pytest.mark.timeout(180)
def test_the_built_wheel_installs_into_a_fresh_virtualenv_and_runs_the_demo(tmp_path: Path) -> None:
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < MIN_SETUPTOOLS:
        pytest.skip(f"building offline needs setuptools>={MIN_SETUPTOOLS} here (found {setuptools.__version__})")
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*build, "-w", str(dist), str(source_copy(tmp_path / "source"))], check=True, timeout=120)
    (wheel,) = dist.glob("codex_self_iter-*.whl")

    fresh = tmp_path / "fresh venv"
    venv.EnvBuilder(with_pip=False).create(fresh)
    python = fresh / "bin" / "python"
    site = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path, {}).stdout.strip()
    )
    # The dependencies (pydantic, filelock, tomli-w) come from this test's own environment, offline: a path entry
    # after the fresh site-packages, so the wheel's copy of the package is the one imported, never the checkout.
    (site / "deps-from-the-test-env.pth").write_text(sysconfig.get_path("purelib") + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index", "--no-deps", str(wheel)]
    installed = subprocess.run(pip, capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stderr

    env = {"PATH": f"{fresh / 'bin'}:/usr/bin:/bin", "HOME": os.environ["HOME"], "CODEX_HOME": os.environ["CODEX_HOME"]}
    env.update({key: os.environ[key] for key in os.environ if key.startswith("GIT_")})
    command = shutil.which("codex-self-iter", path=env["PATH"])
    assert command == str(fresh / "bin" / "codex-self-iter")
    helped = run([command, "--help"], tmp_path, env)
    assert helped.returncode == 0 and "Keep Codex working on a repository" in helped.stdout
    where = run([str(python), "-c", "import codex_self_iter; print(codex_self_iter.__file__)"], tmp_path, env)
    assert where.stdout.startswith(str(site)), where.stdout  # the installed copy, not the checkout

    work = tmp_path / "demo"
    shutil.copytree(REPO_ROOT / "examples" / "quickstart", work)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "start"]):
        subprocess.run(["git", *args], cwd=work, check=True, capture_output=True, timeout=30)
    (work / "TASK.md").unlink()
    initialised = run([command, "init", "--goal", "make slugify pass the tests"], work, env)
    assert initialised.returncode == 0, initialised.stderr
    assert "wrote TASK.md, codex-self-iter.toml" in initialised.stdout
    demo = REPO_ROOT / "examples" / "demo" / "codex-self-iter.toml"
    ran = run([command, "run", "--config", str(demo)], work, env, timeout=120)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "stopped: complete (exit 0)" in ran.stdout and "1/1 checks passed" in ran.stdout

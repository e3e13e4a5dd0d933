"""The plugin's files: versions in step, root manifest mirrors the bundled one, valid skill and marketplace."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import codex_self_iter
from codex_self_iter.plugin.marketplace import BUNDLE_DIR, PLUGIN_NAME

REPO_ROOT = Path(__file__).resolve().parents[1]
ROOT_MANIFEST = REPO_ROOT / ".codex-plugin" / "plugin.json"
BUNDLE_MANIFEST = BUNDLE_DIR / ".codex-plugin" / "plugin.json"
SKILL = BUNDLE_DIR / "skills" / PLUGIN_NAME / "SKILL.md"
MARKETPLACE = REPO_ROOT / ".agents" / "plugins" / "marketplace.json"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def front_matter(text: str) -> dict[str, str]:
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, "SKILL.md must start with a --- front matter block"
    fields = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def test_versions_are_in_step() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    version = pyproject["project"]["version"]
    assert codex_self_iter.__version__ == version
    assert load(ROOT_MANIFEST)["version"] == version
    assert load(BUNDLE_MANIFEST)["version"] == version


def test_root_manifest_mirrors_the_bundled_one() -> None:
    root, bundled = load(ROOT_MANIFEST), load(BUNDLE_MANIFEST)
    skills_root = REPO_ROOT / root.pop("skills")
    skills_bundled = BUNDLE_DIR / bundled.pop("skills")
    assert root == bundled
    assert skills_root.resolve() == skills_bundled.resolve()


def test_manifest_has_what_codex_shows() -> None:
    manifest = load(BUNDLE_MANIFEST)
    assert manifest["name"] == PLUGIN_NAME
    assert manifest["description"]
    assert manifest["keywords"] and all(isinstance(word, str) for word in manifest["keywords"])
    assert manifest["skills"].startswith("./") and ".." not in manifest["skills"]
    assert (BUNDLE_DIR / manifest["skills"]).is_dir()
    interface = manifest["interface"]
    for key in ("displayName", "shortDescription", "longDescription", "developerName", "category"):
        assert isinstance(interface[key], str) and interface[key], key
    assert interface["capabilities"]
    prompts = interface["defaultPrompt"]
    assert 1 <= len(prompts) <= 3
    assert all(0 < len(prompt) <= 128 for prompt in prompts)


def test_skill_front_matter_names_and_describes_it() -> None:
    fields = front_matter(SKILL.read_text(encoding="utf-8"))
    assert fields["name"] == PLUGIN_NAME
    assert 50 < len(fields["description"]) <= 1024
    assert ": " not in fields["description"] and " #" not in fields["description"], "keep it a plain YAML scalar"


def test_skill_covers_start_watch_stop_and_exit_codes() -> None:
    text = SKILL.read_text(encoding="utf-8")
    for needle in (
        "codex-self-iter init",
        "codex-self-iter run --workspace . --detach",
        ".codex-self-iter/logs/loop.log",
        'sandbox_permissions: "require_escalated"',
        "justification",
        "codex-self-iter status --json",
        "codex-self-iter stop",
        "--now",
    ):
        assert needle in text, needle
    for code in ("0", "1", "2", "3", "4", "5", "130"):
        assert re.search(rf"^\| {code} \|", text, re.MULTILINE), f"exit code {code} is not explained"


def test_marketplace_points_at_the_bundle() -> None:
    marketplace = load(MARKETPLACE)
    assert marketplace["name"] == PLUGIN_NAME
    (entry,) = marketplace["plugins"]
    assert entry["name"] == PLUGIN_NAME
    path = entry["source"]["path"]
    assert entry["source"]["source"] == "local" and path.startswith("./") and ".." not in path
    assert (REPO_ROOT / path).resolve() == BUNDLE_DIR.resolve()


def test_bundle_is_small_and_holds_no_code() -> None:
    files = [p for p in BUNDLE_DIR.rglob("*") if p.is_file()]
    assert f"skills/{PLUGIN_NAME}/SKILL.md" in {p.relative_to(BUNDLE_DIR).as_posix() for p in files}
    assert not [p for p in files if p.suffix in (".py", ".pyc")], "the bundle is copied whole into every CODEX_HOME"
    assert sum(p.stat().st_size for p in files) < 64 * 1024

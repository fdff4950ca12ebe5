"""The tools and the media helpers are plain modules: nothing under beta/tools/ or media/ imports Django."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAIN = [ROOT / "beta" / "tools", ROOT / "media"]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted(p for folder in PLAIN for p in folder.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_under_beta_tools_or_media_imports_django(path):
    django = sorted(m for m in imported_modules(path) if m == "django" or m.startswith("django."))
    assert django == [], f"{path.relative_to(ROOT)} imports {django}"


@pytest.mark.parametrize("path", sorted((ROOT / "beta" / "tools").rglob("*.py")), ids=lambda p: p.name)
def test_no_tool_imports_the_assets_app(path):
    assets = sorted(m for m in imported_modules(path) if m == "assets" or m.startswith("assets."))
    assert assets == [], f"{path.relative_to(ROOT)} imports {assets}"


def test_the_media_package_imports_no_app_of_the_portal():
    apps = ("django", "assets", "beta", "portal", "api", "webhooks", "config")
    for path in (ROOT / "media").rglob("*.py"):
        assert not [m for m in imported_modules(path) if m.split(".")[0] in apps], path.name


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from django.conf import settings\n    return settings\n")
    assert "django.conf" in imported_modules(sample)

"""Run mypy and fail only on errors that are not in the committed baseline (`mypy-baseline.txt`).

    python scripts/mypy_baseline.py            # check: exit 1 on any error not in the baseline
    python scripts/mypy_baseline.py --update   # rewrite the baseline from this run (after fixing errors)

An error is matched on its file, message and code, not its line number, so edits above an old error do not make it
new; a file with the same error twice needs it twice in the baseline. Errors in the strict modules (the overrides in
pyproject.toml that set `disallow_untyped_defs`) are never taken from the baseline: those modules stay clean.
Baseline entries that no longer occur are reported so the baseline can shrink (`--update`); they do not fail the run.
Settings must import without a database: run with DJANGO_DEBUG=1 (the Makefile does).
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
ERROR = re.compile(r"^(?P<path>[^:\s]+\.pyi?):\d+(?::\d+)?: error: (?P<message>.*)$")


def run_mypy(args: list[str]) -> tuple[int, list[str]]:
    result = subprocess.run(  # noqa: S603 - our own interpreter running mypy
        [sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode not in (0, 1):  # 2: mypy itself failed (bad config, a crash)
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(result.returncode)
    return result.returncode, result.stdout.splitlines()


def error_keys(lines: list[str]) -> Counter[str]:
    """`path: message  [code]` for every error line, counted."""
    keys: Counter[str] = Counter()
    for line in lines:
        match = ERROR.match(line)
        if match:
            keys[f"{match['path']}: {match['message'].strip()}"] += 1
    return keys


def strict_patterns() -> list[str]:
    """The module patterns of the strict overrides in pyproject.toml, as file globs."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = []
    for override in config.get("tool", {}).get("mypy", {}).get("overrides", []):
        if not override.get("disallow_untyped_defs"):
            continue
        modules = override["module"]
        for module in [modules] if isinstance(modules, str) else modules:
            path = module.replace(".", "/")
            patterns += [f"{path[:-2]}/*.py"] if path.endswith("/*") else [f"{path}.py", f"{path}/*.py"]
    return patterns


def is_strict(key: str, patterns: list[str]) -> bool:
    path = key.split(":", 1)[0]
    return any(fnmatch.fnmatch(path, pattern) for pattern in patterns)


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    return Counter(line for line in BASELINE.read_text().splitlines() if line.strip() and not line.startswith("#"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="rewrite the baseline from this run")
    parser.add_argument("mypy_args", nargs="*", help="extra arguments for mypy")
    args = parser.parse_args()

    _, lines = run_mypy(args.mypy_args)
    current = error_keys(lines)
    strict = strict_patterns()
    if args.update:
        kept = sorted(current.elements())
        header = "# mypy errors accepted for now (scripts/mypy_baseline.py); fix them and run it with --update.\n"
        BASELINE.write_text(header + "".join(f"{k}\n" for k in kept))
        print(f"Baseline: {len(kept)} errors written to {BASELINE.name}.")
    allowed = read_baseline()
    strict_debt = sum(n for k, n in allowed.items() if is_strict(k, strict))
    if strict_debt:
        print(f"{strict_debt} baseline errors are in the strict modules: fix those first.")
    new = current - allowed
    gone = allowed - current
    if gone:
        print(f"{sum(gone.values())} baseline errors no longer occur: shrink the baseline with --update.")
    if new:
        print(f"mypy: {sum(new.values())} errors not in the baseline:")
        for line in lines:
            match = ERROR.match(line)
            if match and f"{match['path']}: {match['message'].strip()}" in new:
                print(line)
        return 1
    print(f"mypy: no new errors ({sum(current.values())} in the baseline).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

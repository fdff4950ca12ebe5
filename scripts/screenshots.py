"""Screenshots of the portal's pages, as each demo person sees them, on a desktop and a phone.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots/pages] [--only staff-tools,partner-home]

Starts a throwaway portal (bench/jobs_bench.py's helpers: a temporary folder, SQLite unless DATABASE_URL is set,
Redis from REDIS_URL or an embedded one), seeds the demo (`seed_demo`), serves it with `runserver`, signs each demo
person in with Chromium (password, then the TOTP code of DEMO_TOTP_SECRET) and saves `<name>-desktop.png` (1280 px)
and `<name>-phone.png` (390 x 844) for every page in PAGES. Pages that answer an error are reported and skipped.
For issue notes and reviews; not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from jobs_bench import throwaway_services  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

#: (name, demo person, path). Names become file names; a path may be a callable of the database (ids).
PAGES: list[tuple[str, str, str]] = [
    ("partner-home", "owner@northlight.test", "/dashboard/"),
    ("partner-catalogue", "owner@northlight.test", "/tools/"),
    ("partner-jobs", "owner@northlight.test", "/jobs/"),
    ("partner-job", "owner@northlight.test", "job:dailies"),
    ("partner-library", "owner@northlight.test", "/assets/"),
    ("partner-upload", "owner@northlight.test", "/assets/upload/"),
    ("partner-asset", "owner@northlight.test", "asset:demo"),
    ("partner-feedback", "owner@northlight.test", "/feedback/"),
    ("partner-team", "owner@northlight.test", "/team/"),
    ("partner-settings", "owner@northlight.test", "/me/settings/"),
    ("partner-notifications", "owner@northlight.test", "/notifications/"),
    ("partner-access-log", "owner@northlight.test", "/studio/access-log/"),
    ("staff-overview", "admin@greenlight.test", "/staff/"),
    ("staff-studios", "admin@greenlight.test", "/staff/studios/"),
    ("staff-studio", "admin@greenlight.test", "studio:northlight"),
    ("staff-studio-offboard", "admin@greenlight.test", "offboard:harbour-lane"),
    ("staff-tools", "admin@greenlight.test", "/staff/tools/"),
    ("staff-quotas", "admin@greenlight.test", "/staff/quotas/"),
    ("staff-agreements", "admin@greenlight.test", "/staff/agreements/"),
    ("staff-inbox", "reviewer@greenlight.test", "/staff/feedback/"),
    ("staff-results", "reviewer@greenlight.test", "/staff/results/"),
    ("staff-audit", "admin@greenlight.test", "/staff/audit/"),
]


def resolve(path: str) -> str | None:
    """A page's path; `job:<tool>` is the demo studio's latest run of that tool, `asset:demo` the demo video,
    `studio:<slug>` / `offboard:<slug>` a studio's staff page and its offboarding page."""
    from assets.models import Asset
    from beta.models import Job

    if path.startswith("job:"):
        job = Job.objects.filter(tool_slug=path[4:], organization__slug="northlight").order_by("-pk").first()
        return f"/jobs/{job.pk}/" if job else None
    if path.startswith(("studio:", "offboard:")):
        from portal.models import Organization

        studio = Organization.objects.filter(slug=path.split(":", 1)[1]).first()
        if studio is None:
            return None
        return f"/staff/studios/{studio.pk}/" + ("offboard/" if path.startswith("offboard:") else "")
    if path == "asset:demo":
        asset = Asset.objects.filter(original_filename__startswith="DEMO_", organization__slug="northlight").first()
        return f"/assets/{asset.pk}/" if asset else None
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_used_windows: set[int] = set()


def totp_code() -> str:
    """The demo secret's code, from a 30 s window not used yet (allauth refuses a code twice) with 5 s left."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
    from django.conf import settings

    while True:
        left = 30 - time.time() % 30
        window = int(time.time()) // 30
        if left >= 5 and window not in _used_windows:
            _used_windows.add(window)
            return format_hotp_value(hotp_value(settings.DEMO_TOTP_SECRET, window))
        time.sleep(left + 0.1)


def sign_in(context, base: str, email: str, password: str) -> None:
    page = context.new_page()
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/2fa/" in page.url:
        page.get_by_label("Code", exact=False).first.fill(totp_code())
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/2fa/" not in url)
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="docs/screenshots/pages")
    parser.add_argument("--only", default="", help="comma-separated page names")
    args = parser.parse_args()
    only = {name for name in args.only.split(",") if name}
    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    with ExitStack() as stack:
        throwaway_services(stack, "gl-shots-")
        from django.conf import settings
        from django.core.management import call_command

        call_command("seed_demo", verbosity=0)
        port = free_port()
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"],
            env={**os.environ, "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"}, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        stack.callback(server.terminate)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)

        from playwright.sync_api import sync_playwright

        pages = [(n, who, resolve(p)) for n, who, p in PAGES if not only or n in only]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for email in dict.fromkeys(who for _, who, _ in pages):
                for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                    context = browser.new_context(viewport=viewport)
                    sign_in(context, base, email, settings.DEMO_PASSWORD)
                    page = context.new_page()
                    for name, who, path in pages:
                        if who != email or path is None:
                            continue
                        response = page.goto(base + path)
                        page.wait_for_load_state("networkidle")
                        if response is None or response.status >= 400:
                            print(f"skipped {name}: {path} answered {response.status if response else 'nothing'}")
                            continue
                        page.screenshot(path=str(out / f"{name}-{size}.png"), full_page=size == "desktop")
                        print(f"{name}-{size}.png  {path}")
                    context.close()
            browser.close()


if __name__ == "__main__":
    main()

"""Invite links are bearer credentials: no log line carries one (Django's request logs, the JSON and text formats,
gunicorn's access log)."""

import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from config.logging import JsonFormatter, TextFormatter, redact
from tests.conftest import ROOT, free_port

TOKEN = "Zq3vN8kL0pXyT4rWm7sB2cD5fG9hJ1aE6uI0oP-_KlM"


def test_redact_replaces_the_token_and_keeps_the_rest():
    assert redact(f"GET /invite/{TOKEN}/ HTTP/1.1") == "GET /invite/[redacted]/ HTTP/1.1"
    assert redact(f"https://beta.example/invite/{TOKEN}/?x=1") == "https://beta.example/invite/[redacted]/?x=1"
    assert redact("/team/invites/12/resend/") == "/team/invites/12/resend/"


@pytest.mark.django_db
@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter("%(name)s: %(message)s %(request)s")])
def test_django_request_logs_of_an_invite_page_carry_no_token(formatter):
    # A real request through Django: a 404 on a bad invite logs "Not Found: /invite/<token>/" with the request.
    handler = logging.Handler()
    records = []
    handler.emit = records.append
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        Client().get(f"/invite/{TOKEN}/", HTTP_REFERER=f"https://mail.example/?u=/invite/{TOKEN}/")
        logging.getLogger("django.request").warning(
            "Not Found: %s", f"/invite/{TOKEN}/", extra={"request": f"<WSGIRequest: GET '/invite/{TOKEN}/'>"}
        )
    finally:
        logger.removeHandler(handler)
    lines = [formatter.format(r) for r in records]
    assert lines
    assert all(TOKEN not in line for line in lines)
    assert any("/invite/[redacted]/" in line for line in lines)
    if isinstance(formatter, JsonFormatter):
        json.loads(lines[-1])


def test_gunicorn_access_log_carries_no_token(tmp_path):
    # The real server with the repository's gunicorn.conf.py, as the image runs it.
    port, access_log = free_port(), tmp_path / "access.log"
    env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "GREENLIGHT_VAR_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--access-logfile", str(access_log), "--error-logfile", str(tmp_path / "error.log")],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/invite/{TOKEN}/"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(
                    urllib.request.Request(url, headers={"Referer": url}), timeout=10
                )
                break
            except urllib.error.HTTPError:
                break  # any answer is logged
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"gunicorn did not answer: {(tmp_path / 'error.log').read_text()[-2000:]}")
                time.sleep(0.3)
        deadline = time.monotonic() + 20
        while "/invite/" not in (access_log.read_text() if access_log.exists() else ""):
            assert time.monotonic() < deadline, "no access log line"
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = Path(access_log).read_text()
    assert TOKEN not in text
    assert "/invite/[redacted]/" in text

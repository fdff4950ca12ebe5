"""runportal's children never outlive it: SIGHUP stops everything cleanly; SIGKILL takes the children with it
(PR_SET_PDEATHSIG). Linux only (/proc)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import ROOT, database_url_for_subprocess, free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def runportal(tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url_for_subprocess(), "REDIS_URL": settings.REDIS_URL,
           "DJANGO_DEBUG": "1", "GREENLIGHT_VAR_DIR": str(tmp_path / "var")}
    log = (tmp_path / "runportal.log").open("wb")
    proc = subprocess.Popen([sys.executable, "manage.py", "runportal", "--no-seed", "--addr",
                             f"127.0.0.1:{free_port()}"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = tmp_path / "runportal.log"
    wait_for(lambda: b"is running at" in proc.log_path.read_bytes() or proc.poll() is not None, timeout=120,
             message="runportal to start")
    assert proc.poll() is None, proc.log_path.read_text()[-3000:]
    children = wait_for(lambda: (c := _children(proc.pid)) and len(c) == 3 and c, message="web, worker and beat")
    yield proc, children
    for pid in children | {proc.pid}:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=30)
    log.close()


def test_sighup_stops_web_worker_and_beat_cleanly(runportal):
    proc, children = runportal
    time.sleep(2)  # let the worker finish starting: a clean stop is the point
    proc.send_signal(signal.SIGHUP)
    assert proc.wait(timeout=60) == 0
    assert "Stopped." in proc.log_path.read_text()
    wait_for(lambda: not any(_alive(pid) for pid in children), timeout=30, message="the children to stop")


def test_children_die_when_runportal_is_killed(runportal):
    proc, children = runportal
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    wait_for(lambda: not any(_alive(pid) for pid in children), timeout=60, message="orphaned children to exit")

"""Under gunicorn with several worker processes, /metrics sums every worker's requests (multiprocess mode)."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT, database_url_for_subprocess, free_port

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "gunicorn-scrape-token"


def _get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


def test_requests_served_by_every_gunicorn_worker_are_summed(tmp_path):
    port = free_port()
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    (multiproc / "counter_stale.db").write_bytes(b"left over from a previous run")  # on_starting clears it
    env = {**os.environ, "DATABASE_URL": database_url_for_subprocess(), "DJANGO_DEBUG": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(multiproc), "METRICS_TOKEN": TOKEN,
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "3"}
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.3)
        for _ in range(40):
            _get(f"{base}/healthz")
        with pytest.raises(urllib.error.HTTPError) as refused:
            _get(f"{base}/metrics")
        assert refused.value.code == 401
        refused.value.close()
        status, text = _get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert status == 200
    served = sum(
        s.value for f in text_string_to_metric_families(text) for s in f.samples
        if s.name == "django_http_responses_total_by_status_view_method_total" and s.labels.get("view") == "healthz"
    )
    assert served >= 41  # every worker's requests, not only those of the worker that answered the scrape
    assert not (multiproc / "counter_stale.db").exists()
    assert "greenlight_queue_length" in text

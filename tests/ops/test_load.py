"""bench/load/locustfile.py loads in Locust and declares the four kinds of users the load test steps up."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT


def test_locust_lists_the_scenarios():
    env = {**os.environ, "LOAD_PARTNER_SESSION": "s", "LOAD_REVIEWER_SESSION": "s", "LOAD_API_KEY": "k",
           "LOAD_ASSET_IDS": json.dumps([1]), "LOAD_JOB_IDS": json.dumps([1])}
    result = subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "load" / "locustfile.py"),
                             "--list"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) >= {"PartnerBrowser", "PartnerUploader", "Reviewer", "ApiPoller"}

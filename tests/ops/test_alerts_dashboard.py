"""The alert rules pass promtool (syntax and unit tests); every dashboard panel queries metrics that exist."""

import json
import re
import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT, skip_or_fail

PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "greenlight.json"
# Metrics from exporters outside the portal that the rules use (node-exporter, kubelet).
EXTERNAL = re.compile(r"^(node_|kubelet_)")
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "on", "ignoring", "and", "or", "unless", "rate", "increase",
    "delta", "time", "absent", "histogram_quantile", "le", "bool", "offset", "group_left", "group_right", "abs",
}
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
            "gauge": ("",), "unknown": ("",)}


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        skip_or_fail("promtool (Debian package prometheus) is not installed")
    return path


def test_alert_rules_pass_promtool_check():
    result = subprocess.run([promtool(), "check", "rules", str(PROMETHEUS / "alerts.yml")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_alert_rules_fire_as_their_unit_tests_expect():
    result = subprocess.run([promtool(), "test", "rules", str(PROMETHEUS / "alerts_test.yml")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', "", expr)  # label values
    expr = re.sub(r"\{[^}]*\}", " ", expr)  # matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)  # label lists
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    return {n for n in names if n not in PROMQL_WORDS and not re.fullmatch(r"[0-9e]+", n)}


@pytest.fixture
def exposed_names(client, settings):
    """Every sample name /metrics can expose: each family's name with the suffixes its type adds."""
    settings.METRICS_TOKEN = "dashboard-test"
    from ops.tasks import sample_storage

    sample_storage()  # as beat does
    client.get("/healthz")
    text = client.get("/metrics", headers={"Authorization": "Bearer dashboard-test"}).content.decode()
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return names


@pytest.mark.django_db
def test_every_dashboard_panel_queries_metrics_the_portal_exposes(exposed_names):
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    assert len(exprs) == len(dashboard["panels"]) >= 15
    for expr in exprs:
        names = metric_names(expr)
        assert names, expr
        assert names <= exposed_names, f"{expr}: unknown {names - exposed_names}"


@pytest.mark.django_db
def test_every_alert_rule_queries_metrics_that_exist(exposed_names):
    import yaml

    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            unknown = {n for n in metric_names(rule["expr"]) if not EXTERNAL.match(n)} - exposed_names
            assert not unknown, f"{rule['alert']}: unknown {unknown}"


def test_metric_names_are_read_from_promql():
    expr = 'sum by (le, tool) (rate(a_bucket{x="y"}[5m])) / on() b_total > 0.5'
    assert metric_names(expr) == {"a_bucket", "b_total"}

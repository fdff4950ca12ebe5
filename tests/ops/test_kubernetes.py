"""deploy/kubernetes: both overlays build with `kubectl kustomize`; every object validates against the Kubernetes
schemas (kubernetes-validate), KEDA objects against a schema written here from KEDA's documentation; every
container runs restricted; workers shut down within their grace period; beat is one replica."""

import shutil
import subprocess
from functools import cache

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT, skip_or_fail

OVERLAYS = ("staging", "production")
KUBERNETES_VERSION = "1.30.0"
QUEUES = ("default", "cpu", "external", "webhooks", "gpu")

# From KEDA's docs (ScaledObject spec; the redis scaler's trigger metadata), not its CRD: what we rely on.
SCALED_OBJECT_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": {"type": "object", "required": ["name", "namespace"]},
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "minReplicaCount", "maxReplicaCount", "triggers"],
            "properties": {
                "scaleTargetRef": {"type": "object", "required": ["name"],
                                   "properties": {"name": {"type": "string", "minLength": 1}}},
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "pollingInterval": {"type": "integer", "minimum": 1},
                "cooldownPeriod": {"type": "integer", "minimum": 0},
                "triggers": {
                    "type": "array", "minItems": 1,
                    "items": {
                        "type": "object", "required": ["type", "metadata"],
                        "properties": {
                            "type": {"const": "redis"},
                            "authenticationRef": {"type": "object", "required": ["name"]},
                            "metadata": {
                                "type": "object",
                                "required": ["listName", "listLength"],
                                "anyOf": [{"required": ["address"]}, {"required": ["addressFromEnv"]},
                                          {"required": ["host", "port"]}],
                                "properties": {
                                    "listName": {"type": "string", "minLength": 1},
                                    "listLength": {"type": "string", "pattern": "^[1-9][0-9]*$"},
                                    "databaseIndex": {"type": "string", "pattern": "^[0-9]+$"},
                                    "enableTLS": {"enum": ["true", "false"]},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}
TRIGGER_AUTH_SCHEMA = {
    "type": "object",
    "required": ["spec"],
    "properties": {"spec": {"type": "object", "properties": {"secretTargetRef": {
        "type": "array", "items": {"type": "object", "required": ["parameter", "name", "key"]}}}}},
}


@cache
def render(overlay: str) -> tuple:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        skip_or_fail("kubectl (Debian package kubernetes-client) is not installed")
    result = subprocess.run([kubectl, "kustomize", str(ROOT / "deploy" / "kubernetes" / "overlays" / overlay)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def of_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_specs(docs):
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_builds_and_every_object_validates(overlay):
    import kubernetes_validate

    docs = render(overlay)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Job", "NetworkPolicy",
            "ConfigMap", "ServiceAccount", "ScaledObject", "TriggerAuthentication"} <= kinds
    assert "Secret" not in kinds  # referenced, never committed
    for doc in docs:
        assert doc["metadata"].get("namespace", "").startswith("greenlight")
        if doc["kind"] == "ScaledObject":
            jsonschema.validate(doc, SCALED_OBJECT_SCHEMA)
        elif doc["kind"] == "TriggerAuthentication":
            jsonschema.validate(doc, TRIGGER_AUTH_SCHEMA)
        else:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_keda_schema_refuses_a_trigger_without_a_list_length():
    doc = dict(of_kind(render("staging"), "ScaledObject")["worker-cpu"])
    broken = yaml.safe_load(yaml.safe_dump(doc))
    del broken["spec"]["triggers"][0]["metadata"]["listLength"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCALED_OBJECT_SCHEMA)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_runs_restricted(overlay):
    specs = list(pod_specs(render(overlay)))
    assert len(specs) == 1 + 1 + len(QUEUES) + 1  # web, beat, the workers, migrate
    for name, spec in specs:
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"] + spec.get("initContainers", []):
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert sc["readOnlyRootFilesystem"] is True, (name, container["name"])
            assert sc["capabilities"] == {"drop": ["ALL"]}, (name, container["name"])
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, (name, container["name"])
            assert container["resources"]["requests"], (name, container["name"])
            assert container["resources"]["limits"], (name, container["name"])
            assert {"secretRef": {"name": "greenlight-secrets"}} in container["envFrom"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_probes_autoscaling_and_disruption_budget(overlay):
    docs = render(overlay)
    web = of_kind(docs, "Deployment")["web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    hpa = of_kind(docs, "HorizontalPodAutoscaler")["web"]["spec"]
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    assert hpa["scaleTargetRef"]["name"] == "web"
    assert "replicas" not in of_kind(docs, "Deployment")["web"]["spec"]  # the HPA owns the count
    assert of_kind(docs, "PodDisruptionBudget")["web"]["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_worker_per_queue_scaled_by_keda_and_shut_down_within_grace(overlay):
    docs = render(overlay)
    deployments, scaled = of_kind(docs, "Deployment"), of_kind(docs, "ScaledObject")
    for queue in QUEUES:
        name = f"worker-{queue}"
        spec = deployments[name]["spec"]["template"]["spec"]
        container = spec["containers"][0]
        assert container["command"][container["command"].index("-Q") + 1] == queue
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["REMAP_SIGTERM"] == "SIGQUIT"  # SIGTERM: cold shutdown, which starts with the soft one
        assert int(env["CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT"]) + 20 <= spec["terminationGracePeriodSeconds"]
        trigger = scaled[name]["spec"]["triggers"][0]
        assert scaled[name]["spec"]["scaleTargetRef"]["name"] == name
        assert trigger["metadata"]["listName"] == queue
    gpu = deployments["worker-gpu"]["spec"]["template"]["spec"]
    assert gpu["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert gpu["nodeSelector"]
    assert any(t["key"] == "nvidia.com/gpu" for t in gpu["tolerations"])
    assert scaled["worker-gpu"]["spec"]["minReplicaCount"] == 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_beat_is_one_replica_recreated_and_migrations_run_as_a_job_first(overlay):
    docs = render(overlay)
    beat = of_kind(docs, "Deployment")["beat"]["spec"]
    assert beat["replicas"] == 1
    assert beat["strategy"] == {"type": "Recreate"}
    assert "beat" not in of_kind(docs, "ScaledObject")
    assert "beat" not in of_kind(docs, "HorizontalPodAutoscaler")
    job = of_kind(docs, "Job")["migrate"]["spec"]["template"]["spec"]
    assert job["containers"][0]["command"][-2:] == ["migrate", "--noinput"]
    for name, spec in pod_specs(docs):  # no pod serves before the schema is current
        if name != "migrate":
            assert spec["initContainers"][0]["command"][-2:] == ["migrate", "--check"], name


def test_network_policy_limits_datastores_and_egress():
    policies = of_kind(render("production"), "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    datastore_from = policies["datastores-ingress"]["spec"]["ingress"][0]["from"]
    assert datastore_from == [{"podSelector": {"matchLabels": {"greenlight.io/tier": "app"}}}]
    egress = policies["app-egress"]["spec"]["egress"]
    ports = {p["port"] for rule in egress for p in rule["ports"]}
    assert ports == {53, 5432, 6379, 443}
    public = next(rule for rule in egress if "ipBlock" in rule["to"][0])
    assert "169.254.0.0/16" in public["to"][0]["ipBlock"]["except"]


def test_the_soft_shutdown_timeout_reaches_celery_from_the_environment():
    import os
    import sys

    code = ("from config.celery import app; app.loader.import_default_modules(); "
            "print(app.conf.worker_soft_shutdown_timeout, app.conf.worker_enable_soft_shutdown_on_idle)")
    env = {**os.environ, "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT": "300", "DJANGO_DEBUG": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["300.0", "True"]

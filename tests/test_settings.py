"""config/settings.py: production refuses unsafe values, and production settings pass check --deploy."""

import os
import secrets
import subprocess
import sys

from tests.conftest import ROOT


def _run(args: list[str], **env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_"))}
    env.update(env_overrides)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _production_env(**extra) -> dict:
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "beta.studio.example",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://beta.studio.example",
        **extra,
    }


def test_production_refuses_to_start_without_secret_key():
    env = _production_env()
    del env["DJANGO_SECRET_KEY"]
    result = _run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_every_command_says_why_the_settings_were_refused():
    """Not Django's "Models aren't loaded yet", which some commands (makemigrations) otherwise print."""
    env = _production_env()
    del env["DJANGO_SECRET_KEY"]
    result = _run(["manage.py", "makemigrations", "--check", "--dry-run"], **env)
    assert result.returncode == 1
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
    assert "DJANGO_DEBUG=1" in result.stderr
    assert "AppRegistryNotReady" not in result.stderr


def test_production_refuses_the_development_secret_key():
    result = _run(
        ["manage.py", "check"], **_production_env(DJANGO_SECRET_KEY="django-insecure-greenlight-development-only")
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    env = _production_env()
    del env["DJANGO_ALLOWED_HOSTS"]
    result = _run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must be set" in result.stderr


def test_debug_is_off_unless_set():
    env = _production_env()
    result = _run(
        ["-c", "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"],
        DJANGO_SETTINGS_MODULE="config.settings",
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_check_deploy_passes_with_production_settings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_storage_switches_to_private_s3_when_a_bucket_is_set():
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.STORAGES['default']))"
    )
    result = _run(
        ["-c", code],
        DJANGO_SETTINGS_MODULE="config.settings",
        **_production_env(
            AWS_STORAGE_BUCKET_NAME="partner-media",
            AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
            AWS_S3_REGION_NAME="eu-west-2",
        ),
    )
    assert result.returncode == 0, result.stderr
    import json

    storage = json.loads(result.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "partner-media"
    assert options["default_acl"] is None
    assert options["file_overwrite"] is False
    assert options["querystring_auth"] is True
    assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}
    assert options["region_name"] == "eu-west-2"


def test_local_storage_is_the_default():
    from django.conf import settings

    assert settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_env_example_documents_every_variable_the_settings_read():
    import re

    source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "the settings read no variables?"
    assert read - documented == set()

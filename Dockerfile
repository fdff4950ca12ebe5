# syntax=docker/dockerfile:1
#
# Greenlight application image. One image serves every app role:
#   web (default CMD, gunicorn), celery workers, celery beat, one-shot migrate.
# See docker-compose.yml for how each role is started.

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    # gunicorn reads WEB_CONCURRENCY as its default --workers value.
    WEB_CONCURRENCY=2

# Runtime libraries for the media pipeline: libomp5 + libvulkan1 for the
# upscaler. ffmpeg itself ships inside the imageio-ffmpeg wheel.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libomp5 libvulkan1 libgl1 libglib2.0-0 libxcb1 libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged runtime user. Code stays root-owned (read-only to the app);
# /app/var (settings' VAR_DIR: beat schedule, scratch) is the only
# app-writable directory in the project tree; collected static files inside it
# stay root-owned.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
       --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first so the layer is cached across code changes.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Collect static files at build time (served by whitenoise) into
# STATIC_ROOT (default /app/var/static). The secret (settings require >= 50
# chars when DEBUG is off) and URLs exist only for this RUN step: nothing is
# contacted, and none of them end up in the image's environment. REDIS_URL is
# set so settings never fall back to the embedded Redis.
RUN DJANGO_SECRET_KEY=build-only-collectstatic-key-not-a-secret-0123456789abcdef \
    DJANGO_DEBUG=0 \
    DJANGO_ALLOWED_HOSTS='*' \
    DATABASE_URL=postgres://build:build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var \
    && chown app:app /app/var

USER app

EXPOSE 8000

# No curl in slim images: probe /healthz with the stdlib. Host "localhost"
# must be in DJANGO_ALLOWED_HOSTS; X-Forwarded-Proto avoids an SSL redirect
# when SECURE_PROXY_SSL_HEADER is configured.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; req = urllib.request.Request('http://localhost:8000/healthz', headers={'X-Forwarded-Proto': 'https'}); sys.exit(0 if urllib.request.urlopen(req, timeout=4).status == 200 else 1)"]

# gunicorn's settings (bind, workers, --timeout 120 s for the slowest request, graceful timeout, and the hooks that
# keep Prometheus multiprocess metrics right) live in config/gunicorn.py.
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]

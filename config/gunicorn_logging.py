"""gunicorn's access log without invite tokens: every field of the line goes through config.logging.redact.

Used by gunicorn.conf.py (gunicorn reads it from the working directory), so the image's default command needs no flag.
"""

from gunicorn.glogging import Logger

from config.logging import redact


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}

"""JSON lines for production logs: one object per record, with the request id. Invite tokens never reach a log.

An invite link is a bearer credential (/invite/<token>/). Request logs (Django's django.request and django.server,
gunicorn's access log in config/gunicorn_logging.py) would carry it, in the path and in Referer headers; every
formatter here passes its output through `redact`.
"""

import json
import logging
import re
from datetime import UTC, datetime

_INVITE_TOKEN = re.compile(r"(/invite/)[^/?#\s\"'<>]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with the token of every invite path replaced by [redacted]."""
    return _INVITE_TOKEN.sub(rf"\g<1>{REDACTED}", text) if "/invite/" in text else text


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return redact(json.dumps(payload, ensure_ascii=False))

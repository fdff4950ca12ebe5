import json
import logging

from config.logging import JsonFormatter
from config.requestid import RequestIdFilter, RequestIdMiddleware


def test_json_lines_carry_the_request_id_of_the_request_being_served(rf):
    formatter, request_filter = JsonFormatter(), RequestIdFilter()
    lines = []

    def view(request):
        record = logging.makeLogRecord(
            {"name": "portal", "levelname": "INFO", "msg": "hello %s", "args": ("there",), "studio": "northlight"}
        )
        request_filter.filter(record)
        lines.append(formatter.format(record))
        from django.http import HttpResponse

        return HttpResponse("ok")

    RequestIdMiddleware(view)(rf.get("/", HTTP_X_REQUEST_ID="req-42"))
    payload = json.loads(lines[0])
    assert payload["request_id"] == "req-42"
    assert payload["message"] == "hello there"
    assert payload["level"] == "INFO"
    assert payload["studio"] == "northlight"


def test_outside_a_request_the_request_id_is_a_dash():
    record = logging.makeLogRecord({"msg": "background"})
    RequestIdFilter().filter(record)
    assert json.loads(JsonFormatter().format(record))["request_id"] == "-"

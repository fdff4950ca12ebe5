"""The API's JSON parser: DRF's, reading through the one limited reader (size and nesting depth)."""

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from api.problems import RequestTooLarge
from portal.safejson import JsonLimitError, loads_limited


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1 if limit else -1) if stream is not None else b""
        try:
            return loads_limited(raw, max_bytes=limit)
        except JsonLimitError as exc:
            if exc.too_large:
                raise RequestTooLarge(str(exc)) from None
            raise ParseError(str(exc)) from None

"""Serving stored bytes from the web process (local storage only): whole files, or the byte range a player asks for.

In S3 mode views redirect to a presigned URL instead and never call this.
"""

from __future__ import annotations

import re

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def requested_range(request, size: int) -> tuple[int, int] | bool | None:
    """(first, last) byte of a single `Range: bytes=...` request; None for the whole file; False if unsatisfiable."""
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match is None or not size:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        return max(size - int(last), 0), size - 1
    first_byte, last_byte = int(first), min(int(last) if last else size - 1, size - 1)
    if first_byte >= size or first_byte > last_byte:
        return False
    return first_byte, last_byte


def _stream(handle, length: int, chunk: int = 256 * 1024):
    try:
        while length > 0 and (data := handle.read(min(chunk, length))):
            length -= len(data)
            yield data
    finally:
        handle.close()


def file_response(handle, *, size: int, content_type: str, wanted: tuple[int, int] | bool | None) -> HttpResponse:
    """The whole file (200), the wanted range (206, so players can seek) or 416; `handle` is closed when done."""
    if wanted is False:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if wanted:
        first, last = wanted
        handle.seek(first)
        response = StreamingHttpResponse(_stream(handle, last - first + 1), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    else:
        response = FileResponse(handle, content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    return response

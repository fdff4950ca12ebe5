"""Reading a JSON request body within limits: at most `max_bytes` long and `max_depth` containers deep.

Python's parser recurses once per level of nesting, so `[[[[...]]]]` a few thousand deep is a RecursionError (a
server error) before any serializer sees it, and a few hundred deep is work for nothing in every later step
(validation, JSON Schema, the database's jsonb). One reader for the API's parser and the pages' JSON endpoints.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NoReturn

from django.conf import settings


class JsonLimitError(ValueError):
    """The body is not acceptable JSON: too large, too deep, or not JSON at all. The message says which."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def depth(value: object) -> int:
    """How many containers deep `value` is (a scalar is 0, `[]` is 1), without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def loads_limited(raw: bytes | str, *, max_bytes: int | None = None, max_depth: int | None = None) -> Any:
    """The parsed JSON of `raw`, or JsonLimitError. Limits default to DATA_UPLOAD_MAX_MEMORY_SIZE and JSON_MAX_DEPTH."""
    max_bytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if max_bytes is None else max_bytes
    max_depth = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    if max_bytes and len(raw) > max_bytes:
        raise JsonLimitError(f"The JSON body is {len(raw):,} bytes; the limit is {max_bytes:,}.", too_large=True)
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        data = None
        too_deep = True
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise JsonLimitError(f"The body is not valid JSON: {exc}") from None
    else:
        too_deep = depth(data) > max_depth
    if too_deep:
        raise JsonLimitError(f"The JSON is nested too deeply: at most {max_depth} levels of objects and lists.")
    return data


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")

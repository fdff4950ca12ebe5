"""Schemathesis hooks (loaded with SCHEMATHESIS_HOOKS=tests.api.schemathesis_hooks): every JSON body it generates
may also be sent with one value nested far deeper than the limit, or with its integers beyond 64 bits."""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

BEYOND_64_BITS = st.one_of(st.integers(min_value=2**63, max_value=2**80), st.integers(max_value=-(2**63)))


def _nested(value, depth: int):
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def _bigger_ints(value, draw_int):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return draw_int()
    if isinstance(value, list):
        return [_bigger_ints(item, draw_int) for item in value]
    if isinstance(value, dict):
        return {key: _bigger_ints(item, draw_int) for key, item in value.items()}
    return value


@st.composite
def _deeper(draw, body: dict):
    if not body:
        return {"k": _nested(1, draw(st.integers(min_value=33, max_value=600)))}
    key = draw(st.sampled_from(sorted(body)))
    return {**body, key: _nested(body[key], draw(st.integers(min_value=20, max_value=600)))}


@st.composite
def _with_big_ints(draw, body):
    body = _bigger_ints(body, lambda: draw(BEYOND_64_BITS))
    if "tool" in body and draw(st.booleans()):
        body["tool"] = "noop"  # a real tool, so that the ids reach the lookup of the inputs
    return body


@schemathesis.hook
def flatmap_body(context, body):
    if not isinstance(body, dict):
        return st.just(body)
    return st.one_of(st.just(body), _deeper(body), _with_big_ints(body))


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    ids = {k: v for k, v in (path_parameters or {}).items() if isinstance(v, int) and not isinstance(v, bool)}
    if not ids:
        return st.just(path_parameters)
    bigger = {**{k: st.just(v) for k, v in path_parameters.items()}, **dict.fromkeys(ids, BEYOND_64_BITS)}
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries(bigger))

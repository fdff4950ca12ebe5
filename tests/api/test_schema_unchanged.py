"""The API's shape and the site's URL names are public contracts: a refactor must not change them. The snapshots
were taken before the layout tidy; a deliberate API change updates them in the same commit (run this module's
`write_snapshots()` and review the diff)."""

import json
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

HERE = Path(__file__).parent
SCHEMA_SNAPSHOT = HERE / "openapi-snapshot.json"
URLS_SNAPSHOT = HERE / "url-names-snapshot.json"


def live_schema() -> str:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.dumps(schema, sort_keys=True, indent=1, default=str) + "\n"


def _walk(patterns, prefix: str, namespace: str):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield [prefix + str(pattern.pattern), f"{namespace}{pattern.name}" if pattern.name else None]


def live_urls() -> str:
    rows = sorted(_walk(get_resolver().url_patterns, "", ""), key=lambda row: (row[0], str(row[1])))
    return json.dumps(rows, indent=0) + "\n"


def write_snapshots() -> None:
    SCHEMA_SNAPSHOT.write_text(live_schema())
    URLS_SNAPSHOT.write_text(live_urls())


def test_the_openapi_schema_is_unchanged():
    assert json.loads(live_schema()) == json.loads(SCHEMA_SNAPSHOT.read_text())


def test_every_url_pattern_keeps_its_path_and_name():
    assert json.loads(live_urls()) == json.loads(URLS_SNAPSHOT.read_text())

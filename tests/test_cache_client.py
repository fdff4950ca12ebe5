"""config/cache.py: the Redis cache keeps one client per connection pool instead of building one per operation, and
still works as Django's cache (against the test Redis)."""

import os

import pytest
from django.core.cache import cache, caches

from config.cache import RedisCache


def test_the_configured_cache_is_ours_and_reuses_its_client():
    assert isinstance(caches["default"], RedisCache)
    client = caches["default"]._cache
    assert client.get_client(write=True) is client.get_client(write=True)
    assert client.get_client("a") is client.get_client("b")


def test_it_reads_writes_and_deletes_as_djangos_does():
    cache.set("cache-client-test", {"n": 1}, 30)
    assert cache.get("cache-client-test") == {"n": 1}
    assert cache.add("cache-client-test-n", 1)
    assert cache.incr("cache-client-test-n") == 2
    cache.delete_many(["cache-client-test", "cache-client-test-n"])
    assert cache.get("cache-client-test") is None


def test_a_forked_child_gets_its_own_connections():
    cache.set("cache-client-fork", "parent", 30)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the inherited client's pool opens new connections for this process
        try:
            os.write(write, str(cache.get("cache-client-fork")).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 100) == b"parent"
    assert cache.get("cache-client-fork") == "parent"  # the parent's connection still works
    cache.delete("cache-client-fork")


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

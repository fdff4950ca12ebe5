import redis

from config.embedded_redis import EmbeddedRedis


def test_embedded_redis_starts_answers_and_stops(tmp_path_factory):
    import tempfile

    directory = tempfile.mkdtemp(prefix="gl-er-")
    server = EmbeddedRedis(directory, persist=False).start()
    try:
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()
            client.set("k", "v")
            assert client.get("k") == b"v"
    finally:
        server.stop()
    assert not server.socket.exists()
    assert server.process is None

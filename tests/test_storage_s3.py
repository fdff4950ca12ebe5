"""The S3 storage path, against moto's S3 server over HTTP: save, read, presigned download, delete."""

import importlib
import os
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages


@pytest.fixture
def s3_storage(s3_bucket, settings, monkeypatch):
    """The default storage exactly as config/settings.py builds it when AWS_STORAGE_BUCKET_NAME is set."""
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", s3_bucket["bucket"])
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", s3_bucket["endpoint"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    import config.settings as settings_module

    try:
        fresh = importlib.reload(settings_module)
        settings.STORAGES = fresh.STORAGES
    finally:
        for name in ("AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.pop(name, None)
        importlib.reload(settings_module)
    return storages["default"]


def test_save_read_presigned_download_and_delete(s3_storage, s3_bucket):
    client, bucket = s3_bucket["client"], s3_bucket["bucket"]
    name = s3_storage.save("orgs/demo/notes.txt", ContentFile(b"scene 12, take 3"))

    with s3_storage.open(name) as fh:
        assert fh.read() == b"scene 12, take 3"
    head = client.head_object(Bucket=bucket, Key=name)
    assert head["ServerSideEncryption"] == "AES256"

    url = s3_storage.url(name)
    query = parse_qs(urlsplit(url).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert urlsplit(url).netloc == urlsplit(s3_bucket["endpoint"]).netloc
    with urllib.request.urlopen(url) as response:  # a real HTTP GET to the S3 endpoint
        assert response.read() == b"scene 12, take 3"

    s3_storage.delete(name)
    assert not s3_storage.exists(name)
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_saving_twice_under_one_name_never_overwrites(s3_storage):
    first = s3_storage.save("orgs/demo/plate.txt", ContentFile(b"one"))
    second = s3_storage.save("orgs/demo/plate.txt", ContentFile(b"two"))
    assert first != second
    with s3_storage.open(first) as fh:
        assert fh.read() == b"one"


def test_objects_are_private(s3_storage, s3_bucket):
    name = s3_storage.save("orgs/demo/private.txt", ContentFile(b"secret"))
    acl = s3_bucket["client"].get_object_acl(Bucket=s3_bucket["bucket"], Key=name)
    public = [g for g in acl["Grants"] if "AllUsers" in g["Grantee"].get("URI", "")]
    assert public == []
    unsigned = f"{s3_bucket['endpoint']}/{s3_bucket['bucket']}/{name}"
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(unsigned)
    assert excinfo.value.code == 403
    excinfo.value.close()

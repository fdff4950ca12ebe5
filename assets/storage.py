"""Where asset bytes live. One interface, two stores: S3 (raw boto3, only here) and local files.

Keys are built by the portal (`assets.keys`), never from a user's filename. In S3 mode the browser sends
the bytes straight to S3 with presigned multipart URLs; in local mode it sends the same parts to the
portal's chunk endpoint. Every write carries server-side encryption in S3 mode.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from django.conf import settings

from portal import tdm

PRESIGN_PART_SECONDS = 60 * 60
MAX_DOWNLOAD_URL_SECONDS = 300


@dataclass(frozen=True)
class StoredPart:
    part_number: int
    size: int
    etag: str


class StorageError(Exception):
    pass


def content_disposition(disposition: str, filename: str) -> str:
    """An RFC 6266 header value that is safe for any filename (quotes, slashes, unicode)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\/;' else "_" for c in filename) or "file"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# --- S3 ---------------------------------------------------------------------------------------------------------------
@cache
def s3_client(public: bool = False):
    """The boto3 S3 client. `public=True` presigns for browsers (AWS_S3_PUBLIC_ENDPOINT_URL)."""
    import boto3
    from botocore.config import Config

    endpoint = settings.AWS_S3_PUBLIC_ENDPOINT_URL if public else settings.AWS_S3_ENDPOINT_URL
    return boto3.client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=settings.AWS_S3_REGION_NAME,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": settings.AWS_S3_ADDRESSING_STYLE},
            retries={"max_attempts": 5, "mode": "standard"},
        ),
    )


def encryption_args(kms_key_id: str = "") -> dict:
    """Server-side encryption for every write: SSE-KMS with the studio's key when set, else the default."""
    key = kms_key_id or settings.AWS_S3_KMS_KEY_ID
    if key:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key}
    return {"ServerSideEncryption": settings.AWS_S3_SSE}


class S3Store:
    mode = "s3"

    def __init__(self):
        self.bucket = settings.AWS_STORAGE_BUCKET_NAME
        self.client = s3_client()

    # multipart upload, driven by the browser
    def multipart_start(self, key: str, content_type: str, *, kms_key_id: str = "") -> str:
        response = self.client.create_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            ContentType=content_type or "application/octet-stream",
            Metadata=tdm.object_metadata(),
            **encryption_args(kms_key_id),
        )
        return response["UploadId"]

    def multipart_part_url(self, key: str, upload_id: str, part_number: int) -> str:
        return s3_client(public=True).generate_presigned_url(
            "upload_part",
            Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": part_number},
            ExpiresIn=PRESIGN_PART_SECONDS,
        )

    def multipart_list_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        parts, marker = [], 0
        while True:
            response = self.client.list_parts(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker, MaxParts=1000
            )
            parts += [StoredPart(p["PartNumber"], p["Size"], p["ETag"].strip('"')) for p in response.get("Parts", [])]
            if not response.get("IsTruncated"):
                return parts
            marker = response["NextPartNumberMarker"]

    def multipart_complete(self, key: str, upload_id: str, parts: list[StoredPart]) -> None:
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": p.part_number, "ETag": f'"{p.etag}"'} for p in parts]},
        )

    def multipart_abort(self, key: str, upload_id: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("NoSuchUpload", "404"):
                raise

    def multipart_uploads(self, prefix: str) -> list[tuple[str, str, object]]:
        """(key, upload id, initiated) of every unfinished multipart upload under `prefix`."""
        found = []
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            found += [(u["Key"], u["UploadId"], u["Initiated"]) for u in page.get("Uploads", [])]
        return found

    # objects
    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def open(self, key: str) -> BinaryIO:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]

    def put_file(self, path: Path, key: str, content_type: str, *, kms_key_id: str = "") -> None:
        self.client.upload_file(
            str(path),
            self.bucket,
            key,
            ExtraArgs={"ContentType": content_type, "Metadata": tdm.object_metadata(), **encryption_args(kms_key_id)},
        )

    def list_keys(self, prefix: str) -> list[tuple[str, int]]:
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [(o["Key"], o["Size"]) for o in page.get("Contents", [])]
        return keys

    def delete_keys(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
            if response.get("Errors"):
                raise StorageError(f"{len(response['Errors'])} objects could not be deleted")

    def download_url(
        self,
        key: str,
        *,
        filename: str,
        content_type: str,
        inline: bool = False,
        expires: int = MAX_DOWNLOAD_URL_SECONDS,
    ) -> str:
        return s3_client(public=True).generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition("inline" if inline else "attachment", filename),
                "ResponseContentType": content_type or "application/octet-stream",
                # S3 can override only a few response headers (not tdm-*): no-store is one of them. The TDM
                # reservation travels as the object's metadata (x-amz-meta-tdm-reservation), set when written.
                "ResponseCacheControl": tdm.NO_STORE,
            },
            ExpiresIn=min(expires, MAX_DOWNLOAD_URL_SECONDS),
        )


# --- Local files ------------------------------------------------------------------------------------------------------
class LocalStore:
    """The embedded default: files under MEDIA_ROOT, parts under MEDIA_ROOT/.uploads/<upload id>/."""

    mode = "local"

    def __init__(self):
        self.root = Path(settings.MEDIA_ROOT).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise StorageError("a key outside the media root")
        return path

    def _upload_dir(self, upload_id: str) -> Path:
        return self._path(f".uploads/{uuid.UUID(upload_id).hex}")

    def multipart_start(self, key: str, content_type: str, *, kms_key_id: str = "") -> str:
        upload_id = uuid.uuid4().hex
        self._upload_dir(upload_id).mkdir(parents=True, exist_ok=True)
        return upload_id

    def multipart_write_part(self, upload_id: str, part_number: int, stream: BinaryIO, length: int) -> StoredPart:
        directory = self._upload_dir(upload_id)
        if not directory.is_dir():
            raise StorageError("this upload is no longer open")
        digest, written = hashlib.md5(usedforsecurity=False), 0
        tmp = directory / f"{part_number:05d}.{uuid.uuid4().hex}.tmp"  # overlapping retries never share a file
        with tmp.open("wb") as out:
            while written < length:
                chunk = stream.read(min(1024 * 1024, length - written))
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                written += len(chunk)
        if written != length:
            tmp.unlink(missing_ok=True)
            raise StorageError(f"the part ended after {written} of {length} bytes")
        tmp.replace(directory / f"{part_number:05d}.part")
        return StoredPart(part_number, written, digest.hexdigest())

    def multipart_list_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        directory = self._upload_dir(upload_id)
        parts = []
        for path in sorted(directory.glob("*.part")) if directory.is_dir() else []:
            digest = hashlib.md5(usedforsecurity=False)
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                    digest.update(chunk)
            parts.append(StoredPart(int(path.stem), path.stat().st_size, digest.hexdigest()))
        return parts

    def multipart_complete(self, key: str, upload_id: str, parts: list[StoredPart]) -> None:
        directory = self._upload_dir(upload_id)
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".assembling")
        with tmp.open("wb") as out:
            for part in parts:
                with (directory / f"{part.part_number:05d}.part").open("rb") as fh:
                    shutil.copyfileobj(fh, out, 1024 * 1024)
        tmp.replace(target)
        shutil.rmtree(directory, ignore_errors=True)

    def multipart_abort(self, key: str, upload_id: str) -> None:
        shutil.rmtree(self._upload_dir(upload_id), ignore_errors=True)

    def multipart_uploads(self, prefix: str) -> list[tuple[str, str, object]]:
        return []  # local uploads are tracked by their Asset rows only

    def size(self, key: str) -> int | None:
        path = self._path(key)
        return path.stat().st_size if path.is_file() else None

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def put_file(self, path: Path, key: str, content_type: str, *, kms_key_id: str = "") -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".writing")
        shutil.copyfile(path, tmp)
        tmp.replace(target)

    def list_keys(self, prefix: str) -> list[tuple[str, int]]:
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not base.exists():
            return []
        files = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
        return [(p.relative_to(self.root).as_posix(), p.stat().st_size) for p in files]

    def delete_keys(self, keys: list[str]) -> None:
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            parent = path.parent
            while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent

    def download_url(self, key: str, **kwargs) -> None:
        return None  # local files are streamed by the portal itself


def get_store() -> S3Store | LocalStore:
    return S3Store() if settings.USE_S3 else LocalStore()


def copy_to_file(store, key: str, destination: Path, *, on_chunk=None) -> None:
    """Copy a stored object to a local file in chunks, calling on_chunk(bytes) for each (hashing on the way)."""
    with store.open(key) as source, destination.open("wb") as out:
        while chunk := source.read(1024 * 1024):
            out.write(chunk)
            if on_chunk is not None:
                on_chunk(chunk)
    os.chmod(destination, 0o600)

"""What a file really is, from its first bytes, never from its name.

A partner's filename or browser-supplied Content-Type is only a declaration: `kind_from_filename` gives the upload
form its first guess, and `detect` gives the truth that verification checks the declaration against.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath

KINDS = ("video", "image", "audio", "script", "document")

#: How much of a file `detect` reads.
HEAD_SIZE = 64 * 1024

OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class Detected:
    """The detected kind (one of KINDS, or None when the content is not one we accept), MIME type and a label."""

    kind: str | None
    content_type: str
    label: str


# Every result `detect` can give for a known format: content type -> (kind, label). Text results are built in
# `_detect_text` (text/plain is a script or a document depending on what it says).
_FORMATS: dict[str, tuple[str, str]] = {
    # video
    "video/quicktime": ("video", "QuickTime movie"),
    "video/mp4": ("video", "MPEG-4 video"),
    "video/3gpp": ("video", "3GPP video"),
    "video/webm": ("video", "WebM video"),
    "video/x-matroska": ("video", "Matroska video"),
    "video/x-msvideo": ("video", "AVI video"),
    "application/mxf": ("video", "MXF video"),
    "video/mp2t": ("video", "MPEG transport stream"),
    "video/mpeg": ("video", "MPEG video"),
    "video/ogg": ("video", "Ogg video"),
    # images
    "image/jpeg": ("image", "JPEG image"),
    "image/png": ("image", "PNG image"),
    "image/gif": ("image", "GIF image"),
    "image/tiff": ("image", "TIFF image"),
    "image/webp": ("image", "WebP image"),
    "image/x-exr": ("image", "OpenEXR image"),
    "image/x-dpx": ("image", "DPX image"),
    "image/jp2": ("image", "JPEG 2000 image"),
    "image/heic": ("image", "HEIF image"),
    "image/avif": ("image", "AVIF image"),
    "image/vnd.adobe.photoshop": ("image", "Photoshop image"),
    # audio
    "audio/mp4": ("audio", "MPEG-4 audio"),
    "audio/wav": ("audio", "WAV audio"),
    "audio/aiff": ("audio", "AIFF audio"),
    "audio/flac": ("audio", "FLAC audio"),
    "audio/mpeg": ("audio", "MP3 audio"),
    "audio/ogg": ("audio", "Ogg audio"),
    "audio/aac": ("audio", "AAC audio"),
    # documents
    "application/pdf": ("document", "PDF document"),
}

#: kind -> the content types `detect` may report for it. The app checks uploads (and presigned-POST conditions)
#: against this; text/plain belongs to both scripts (Fountain) and documents.
ALLOWED_CONTENT_TYPES: dict[str, frozenset[str]] = {
    kind: frozenset(
        [ct for ct, (k, _) in _FORMATS.items() if k == kind]
        + {"script": ["text/plain", "application/xml"], "document": ["text/plain"]}.get(kind, [])
    )
    for kind in KINDS
}

_EXTENSIONS = {
    "video": ("mov", "qt", "mp4", "m4v", "3gp", "3g2", "mkv", "webm", "avi", "mxf", "ts", "mts", "m2ts", "mpg", "mpeg",
              "m2v", "vob", "ogv"),
    "image": ("jpg", "jpeg", "jpe", "png", "gif", "tif", "tiff", "webp", "exr", "dpx", "jp2", "j2k", "heic", "heif",
              "avif", "psd"),
    "audio": ("wav", "wave", "bwf", "aif", "aiff", "aifc", "flac", "mp3", "ogg", "oga", "opus", "aac", "m4a"),
    "script": ("fountain", "spmd", "fdx"),
    "document": ("pdf", "txt", "md"),
}  # fmt: skip
_EXTENSION_KINDS = {ext: kind for kind, extensions in _EXTENSIONS.items() for ext in extensions}


def kind_from_filename(name: str) -> str | None:
    """The kind a filename declares by its extension (the upload form's first guess; `detect` decides)."""
    suffix = PurePath(name).suffix.lower().lstrip(".")
    return _EXTENSION_KINDS.get(suffix)


def detect(path: Path, *, filename: str = "") -> Detected:
    """Detect what the file at `path` holds from at most its first 64 KiB.

    `filename` is the partner's original name; it is consulted only to tell a Fountain screenplay from plain text,
    which have the same bytes.
    """
    with Path(path).open("rb") as f:
        head = f.read(HEAD_SIZE)
        truncated = os.fstat(f.fileno()).st_size > len(head)
    if not head.strip():
        return Detected(None, OCTET_STREAM, "Empty file")
    content_type = _detect_binary(head)
    if content_type is not None:
        kind, label = _FORMATS[content_type]
        return Detected(kind, content_type, label)
    text = _decode_text(head, truncated=truncated)
    if text is not None:
        return _detect_text(text, filename)
    return Detected(None, OCTET_STREAM, "Unknown binary data")


def _detect_binary(head: bytes) -> str | None:
    """The content type of a known binary format, checked signature by signature, in the order of _SIGNATURES."""
    for check in _SIGNATURES:
        found = check(head)
        if found is not None:
            return found or None  # "": the signature matched a container we do not take
    return None


def _prefix(content_type: str, *signatures: bytes, at: int = 0) -> Callable[[bytes], str | None]:
    """A check: `content_type` when the head has one of `signatures` at offset `at`."""

    def check(head: bytes) -> str | None:
        return content_type if any(head[at : at + len(sig)] == sig for sig in signatures) else None

    return check


def _riff(head: bytes) -> str | None:
    if head[:4] not in (b"RIFF", b"RF64", b"BW64"):
        return None
    return {b"AVI ": "video/x-msvideo", b"WAVE": "audio/wav", b"WEBP": "image/webp"}.get(head[8:12], "")


def _matroska(head: bytes) -> str | None:
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    return "video/webm" if _ebml_doctype(head) == b"webm" else "video/x-matroska"


def _aiff(head: bytes) -> str | None:
    return "audio/aiff" if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC") else None


def _iso_bmff(head: bytes) -> str | None:
    return (_detect_iso_bmff(head) or "") if head[4:8] == b"ftyp" else None


def _id3(head: bytes) -> str | None:
    return (_after_id3(head) or "") if head.startswith(b"ID3") else None


def _ogg(head: bytes) -> str | None:
    if not head.startswith(b"OggS"):
        return None
    return "video/ogg" if b"\x80theora" in head[:4096] else "audio/ogg"


def _bare_audio(head: bytes) -> str | None:
    if _is_adts(head, 0):
        return "audio/aac"
    return "audio/mpeg" if _is_mpeg_audio(head, 0) else None


def _mxf_run_in(head: bytes) -> str | None:
    # MXF files may carry a "run-in" of up to 64 KiB before the header partition pack.
    return "application/mxf" if _MXF_HEADER_KEY in head else None


_MXF_HEADER_KEY = b"\x06\x0e\x2b\x34\x02\x05\x01\x01"


# ISO base media file format (MP4, MOV, 3GP, HEIF): the `ftyp` box names a major brand and compatible brands.
_QUICKTIME_BRANDS = {b"qt  "}
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH", b"M4VP",
    b"dash", b"mmp4", b"MSNV", b"XAVC", b"f4v ",
}  # fmt: skip
_AUDIO_MP4_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_3GP_PREFIXES = (b"3gp", b"3g2")
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def _detect_iso_bmff(head: bytes) -> str | None:
    size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    end = min(size, len(head)) if size >= 16 else min(len(head), 64)
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    for brands in ([major], compatible):
        found = _content_type_for_brands(set(brands))
        if found is not None:
            if found == "video/mp4" and _mp4_is_audio_only(head):
                return "audio/mp4"
            return found
    return None


def _content_type_for_brands(brands: set[bytes]) -> str | None:
    if brands & _QUICKTIME_BRANDS:
        return "video/quicktime"
    if brands & _AUDIO_MP4_BRANDS:
        return "audio/mp4"
    if brands & _AVIF_BRANDS:
        return "image/avif"
    if brands & _HEIF_BRANDS:
        return "image/heic"
    if any(b.startswith(_3GP_PREFIXES) for b in brands):
        return "video/3gpp"
    if brands & _MP4_BRANDS:
        return "video/mp4"
    return None


def _mp4_is_audio_only(head: bytes) -> bool:
    """True when the `moov` box is in the head (a "fast start" file) and its tracks are sound, none video.

    The brand of a plain `isom` file says nothing about its tracks; the handler boxes do. When `moov` is at the end
    of the file we cannot see them and keep the brand's answer.
    """
    handlers = set()
    start = 0
    while (i := head.find(b"hdlr", start)) != -1:
        handlers.add(head[i + 12 : i + 16])
        start = i + 4
    return b"soun" in handlers and not handlers & {b"vide", b"pict"}


def _ebml_doctype(head: bytes) -> bytes | None:
    """The DocType string of a Matroska/WebM EBML header (element 0x4282), e.g. b"webm" or b"matroska"."""
    i = head.find(b"\x42\x82", 4, 64)
    if i == -1 or i + 2 >= len(head):
        return None
    first = head[i + 2]
    width = 1
    while width <= 8 and not first & (0x80 >> (width - 1)):
        width += 1
    if width > 8:
        return None
    length = first & (0xFF >> width)
    for b in head[i + 3 : i + 2 + width]:
        length = (length << 8) | b
    start = i + 2 + width
    return head[start : start + length]


def _is_transport_stream(head: bytes) -> bool:
    """MPEG-TS: a 0x47 sync byte every 188 bytes (or every 192 in Blu-ray/AVCHD .m2ts, after a 4-byte timestamp)."""
    for packet, offset in ((188, 0), (192, 4)):
        packets = min(8, (len(head) - offset) // packet)
        if packets >= 3 and all(head[offset + n * packet] == 0x47 for n in range(packets)):
            return True
    return False


def _after_id3(head: bytes) -> str:
    """An ID3v2 tag usually precedes MP3 frames, but sometimes AAC (ADTS) or FLAC: look past it."""
    size = 0
    for b in head[6:10]:
        size = (size << 7) | (b & 0x7F)
    offset = 10 + size + (10 if len(head) > 5 and head[5] & 0x10 else 0)
    if head[offset : offset + 4] == b"fLaC":
        return "audio/flac"
    if _is_adts(head, offset):
        return "audio/aac"
    return "audio/mpeg"


def _adts_frame_length(head: bytes, offset: int) -> int | None:
    # 12-bit sync, then MPEG version (any), layer 00: FF F0/F1/F8/F9; a 13-bit frame length that covers the header.
    if len(head) < offset + 7 or head[offset] != 0xFF or head[offset + 1] & 0xF6 != 0xF0:
        return None
    length = ((head[offset + 3] & 0x03) << 11) | (head[offset + 4] << 3) | (head[offset + 5] >> 5)
    return length if length >= 7 else None


def _is_adts(head: bytes, offset: int) -> bool:
    return _is_frame_stream(head, offset, _adts_frame_length)


# MPEG audio frame header tables (kbit/s), indexed [version is MPEG-1][layer 1..3][bitrate index].
_MPEG1_BITRATES = {
    1: (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    2: (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
}
_MPEG2_BITRATES = {
    1: (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    3: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_audio_frame_length(head: bytes, offset: int) -> int | None:
    """Length of the MPEG audio (MP1/MP2/MP3) frame whose header is at `offset`, or None if it is no such header."""
    if len(head) < offset + 4 or head[offset] != 0xFF or head[offset + 1] & 0xE0 != 0xE0:
        return None
    version = (head[offset + 1] >> 3) & 3  # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5, 1 reserved
    layer = 4 - ((head[offset + 1] >> 1) & 3)  # header bits 11 = layer I ... 01 = layer III; 00 reserved
    bitrate_index = head[offset + 2] >> 4
    rate_index = (head[offset + 2] >> 2) & 3
    if version == 1 or layer == 4 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = (_MPEG1_BITRATES if version == 3 else _MPEG2_BITRATES)[layer][bitrate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (head[offset + 2] >> 1) & 1
    if layer == 1:
        return (12 * bitrate // sample_rate + padding) * 4
    if layer == 3 and version != 3:
        return 72 * bitrate // sample_rate + padding
    return 144 * bitrate // sample_rate + padding


def _is_mpeg_audio(head: bytes, offset: int) -> bool:
    return _is_frame_stream(head, offset, _mpeg_audio_frame_length)


def _is_frame_stream(head: bytes, offset: int, frame_length: Callable[[bytes, int], int | None]) -> bool:
    """A frame header whose frame is followed by another header, or ends the file exactly.

    One sync word alone is too weak a signal: UTF-16 text starts FF FE, which reads as an MPEG audio header.
    """
    length = frame_length(head, offset)
    if length is None:
        return False
    following = offset + length
    return following == len(head) or frame_length(head, following) is not None


# Text ----------------------------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_SCENE_HEADING = re.compile(r"(?:INT\.?/EXT|EXT\.?/INT|INT|EXT|EST|I/E)[.\s]\s*\S")
_FOUNTAIN_SUFFIXES = (".fountain", ".spmd")


def _decode_text(head: bytes, *, truncated: bool) -> str | None:
    """The head as text if it is UTF-8 (BOM allowed) without NUL or other binary control characters."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        # A 64 KiB cut may split a multi-byte character at the end: only a complete file must end cleanly.
        text = decoder.decode(head, final=not truncated)
    except UnicodeDecodeError:
        return None
    if _CONTROL.search(text):
        return None
    return text


def _detect_text(text: str, filename: str) -> Detected:
    stripped = text.lstrip()
    if stripped.startswith("<?xml") and "<FinalDraft" in stripped[:4096]:
        return Detected("script", "application/xml", "Final Draft screenplay")
    if filename.lower().endswith(_FOUNTAIN_SUFFIXES) or _has_scene_heading(text):
        return Detected("script", "text/plain", "Fountain screenplay")
    return Detected("document", "text/plain", "Plain text")


def _has_scene_heading(text: str) -> bool:
    # Scene headings are written in capitals ("INT. KITCHEN - NIGHT"); "Int. rates rose" in prose is not one.
    return any(_SCENE_HEADING.match(line) and line.isupper() for line in map(str.strip, text.splitlines()))


#: Binary signatures, first match wins: the order matters (an MXF run-in is looked for last).
_SIGNATURES: tuple[Callable[[bytes], str | None], ...] = (
    _iso_bmff,
    _matroska,
    _riff,
    _aiff,
    _prefix("application/mxf", _MXF_HEADER_KEY),
    lambda head: "video/mp2t" if _is_transport_stream(head) else None,
    _prefix("video/mpeg", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"),
    _prefix("image/jpeg", b"\xff\xd8\xff"),
    _prefix("image/png", b"\x89PNG\r\n\x1a\n"),
    _prefix("image/gif", b"GIF87a", b"GIF89a"),
    _prefix("image/tiff", b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    _prefix("image/x-exr", b"\x76\x2f\x31\x01"),
    _prefix("image/x-dpx", b"SDPX", b"XPDS"),
    _prefix("image/jp2", b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51"),
    _prefix("image/vnd.adobe.photoshop", b"8BPS"),
    _prefix("audio/flac", b"fLaC"),
    _id3,
    _ogg,
    _bare_audio,
    _prefix("application/pdf", b"%PDF-"),
    _mxf_run_in,
)

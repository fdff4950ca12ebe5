"""Checking a still image's size from its header, without decoding it (a decompression bomb is a small file that
claims a huge picture)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from media.errors import MediaError
from media.probe import MediaInfo

_PILLOW_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def check_image_pixels(path: Path, *, max_pixels: int, probed: MediaInfo | None = None) -> tuple[int, int]:
    """The image's (width, height), read from its header without decoding a pixel; MediaError, with the numbers,
    when it is over `max_pixels` (a decompression bomb: a small PNG that claims 50,000 x 50,000) or has no size
    that Pillow or ffmpeg can read."""
    from PIL import Image, UnidentifiedImageError  # Pillow is imported only when an image is checked

    size = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit decides, below
        try:
            with Image.open(path) as image:
                size = image.size
        except Image.DecompressionBombError as exc:  # over twice Pillow's own limit: it will not say the sides
            found = _PILLOW_BOMB_PIXELS.search(str(exc))
            pixels = f"{int(found.group(1)):,} pixels" if found else "more pixels than Pillow will open"
            raise MediaError(
                f"The image is too large: {pixels}; the limit is {max_pixels:,} pixels.", detail=str(exc)
            ) from None
        except (UnidentifiedImageError, OSError, ValueError):
            pass  # a format Pillow does not read (EXR, DPX): ffmpeg's probe has the size
    if size is None and probed is not None and probed.width and probed.height:
        size = (probed.width, probed.height)
    if size is None or min(size) < 1:
        raise MediaError("The image's size could not be read. Please export it again as PNG, JPEG or TIFF.")
    width, height = size
    if width * height > max_pixels:
        raise MediaError(
            f"The image is too large: {width:,} x {height:,} pixels ({width * height:,}); the limit is "
            f"{max_pixels:,} pixels."
        )
    return width, height

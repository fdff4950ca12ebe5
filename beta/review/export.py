"""Notes export: each note's frame, pulled from the review copy with ffmpeg and with its drawing burnt in (Pillow),
in a PDF (WeasyPrint) or as timecodes in a CSV."""

from __future__ import annotations

import csv
import io
import subprocess
import tempfile
from pathlib import Path

from django.template.loader import render_to_string
from PIL import Image

from assets.media import exact_frame_rate, ffmpeg_exe
from assets.storage import copy_to_file, get_store
from beta.models import FeedbackNote
from beta.review.drawing import burn_in
from beta.review.selectors import note_timecodes

FRAME_TIMEOUT = 60
PDF_FRAME_WIDTH = 960


class FrameError(Exception):
    """The frame could not be read from the stored media."""


def _media_key(asset) -> str:
    proxy = next((r for r in asset.renditions.all() if r.kind == "proxy"), None)
    return proxy.storage_key if proxy else asset.storage_key


def extract_frame(path: Path, frame: int, rate: float, *, width: int = PDF_FRAME_WIDTH) -> Image.Image:
    """Frame `frame` (0 = first) of a video file, by an accurate seek."""
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-protocol_whitelist", "file",
        # ffmpeg's accurate seek starts at the first frame whose time is at or after -ss: a quarter frame before
        # frame N's start is after frame N - 1's, so N is the frame it starts at.
        "-ss", f"{max(0.0, (frame - 0.25) / rate):.6f}", "-i", f"file:{path.resolve()}",
        "-frames:v", "1", "-vf", f"scale='min({width},iw)':-2", "-f", "image2pipe", "-c:v", "png", "pipe:1",
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, timeout=FRAME_TIMEOUT, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FrameError("The frame could not be read.") from exc
    if result.returncode != 0 or not result.stdout:
        raise FrameError("The frame could not be read.")
    return Image.open(io.BytesIO(result.stdout)).convert("RGB")


def annotated_frames(notes: list[FeedbackNote], workdir: Path) -> dict[int, Image.Image]:
    """{note id: its frame with the drawing}, reading each output's media once."""
    frames: dict[int, Image.Image] = {}
    local: dict[int, Path] = {}
    store = get_store()
    for note in notes:
        if note.output_id is None or note.frame is None:
            continue
        asset = note.output.asset
        num, den = exact_frame_rate(asset.fps)
        if not num:
            continue
        if asset.pk not in local:
            local[asset.pk] = workdir / f"media-{asset.pk}"
            copy_to_file(store, _media_key(asset), local[asset.pk])
        try:
            frames[note.pk] = burn_in(extract_frame(local[asset.pk], note.frame, num / den), note.drawing)
        except FrameError:
            continue
    return frames


def note_frame_png(note: FeedbackNote, *, width: int = 480) -> bytes | None:
    """One note's annotated frame as PNG (the notes list's thumbnail), or None when there is none to show."""
    with tempfile.TemporaryDirectory(prefix="gl-note-") as tmp:
        image = annotated_frames([note], Path(tmp)).get(note.pk)
    if image is None:
        return None
    image.thumbnail((width, width))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def notes_csv(notes: list[FeedbackNote]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["note", "output", "frame", "frame_out", "timecode_in", "timecode_out", "author", "side",
                     "created_at", "text", "has_drawing"])
    for note in notes:
        tc_in, tc_out = note_timecodes(note)
        writer.writerow([
            note.pk, note.output.label if note.output_id else "", "" if note.frame is None else note.frame,
            "" if note.frame_out is None else note.frame_out, tc_in, tc_out,
            str(note.author) if note.author_id else "", "staff" if note.by_staff else "studio",
            note.created_at.isoformat(), _safe_cell(note.text), "yes" if note.drawing else "no",
        ])  # fmt: skip
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """Keep a spreadsheet from reading a note as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def notes_pdf(report, notes: list[FeedbackNote], *, title: str) -> bytes:
    import weasyprint

    with tempfile.TemporaryDirectory(prefix="gl-notes-") as tmp:
        workdir = Path(tmp)
        frames = annotated_frames(notes, workdir)
        rows = []
        for note in notes:
            image_name = ""
            if note.pk in frames:
                image_name = f"note-{note.pk}.png"
                frames[note.pk].save(workdir / image_name, "PNG")
            tc_in, tc_out = note_timecodes(note)
            rows.append({"note": note, "image": image_name, "tc_in": tc_in, "tc_out": tc_out})
        html = render_to_string("beta/review/notes_pdf.html", {"report": report, "rows": rows, "title": title})
        return weasyprint.HTML(string=html, base_url=tmp).write_pdf()

"""Reads for the review room: notes as the player and the pages show them, visible to whom they may be."""

from __future__ import annotations

from fractions import Fraction

from django.db.models import Prefetch, Q

from assets.media import exact_frame_rate
from beta.models import FeedbackNote, FeedbackNoteReply, FeedbackReport
from media.timecode import Rate, frames_to_timecode, supports_drop_frame, timecode_to_frames


def visible_notes(user):
    """Notes the person may see: their studio's (staff: all), and on a draft report only its author's."""
    return (
        FeedbackNote.objects.for_user(user)
        .filter(Q(report__author=user) | ~Q(report__status=FeedbackReport.Status.DRAFT))
        .select_related("author", "output__asset", "report")
        .prefetch_related(
            "output__asset__renditions",
            Prefetch("replies", FeedbackNoteReply.objects.visible_to(user).select_related("author")),
        )
        .order_by("frame", "seconds", "id")
    )


def _rate(asset) -> Rate | None:
    num, den = exact_frame_rate(asset.fps if asset else None)
    if not num:
        return None
    start = (asset.timecode_start or "").strip()
    rate = Fraction(num, den)
    return Rate(rate, drop_frame=";" in start and supports_drop_frame(rate))


def note_timecodes(note: FeedbackNote) -> tuple[str, str]:
    """The note's in and out as source timecode (the output's start timecode plus the frame)."""
    asset = note.output.asset if note.output_id else None
    rate = _rate(asset)
    if rate is None or note.frame is None:
        return "", ""
    try:
        start = timecode_to_frames(asset.timecode_start, rate) if asset.timecode_start else 0
    except ValueError:
        start = 0
    tc_in = frames_to_timecode(start + note.frame, rate)
    tc_out = frames_to_timecode(start + note.frame_out, rate) if note.frame_out is not None else ""
    return tc_in, tc_out


def note_json(note: FeedbackNote) -> dict:
    tc_in, tc_out = note_timecodes(note)
    return {
        "id": note.pk,
        "report": note.report_id,
        "output": note.output_id,
        "frame": note.frame,
        "frame_out": note.frame_out,
        "timecode": tc_in,
        "timecode_out": tc_out,
        "text": note.text,
        "author": (note.author.full_name or note.author.email) if note.author_id else "",
        "side": "staff" if note.by_staff else "studio",
        "drawing": note.drawing,
        "replies": [
            {"author": str(r.author) if r.author_id else "", "body": r.body, "internal": r.internal,
             "side": "staff" if r.author_id and r.author.is_studio_staff else "studio"}
            for r in note.replies.all()
        ],
    }


def notes_for_page(user, report: FeedbackReport) -> list[FeedbackNote]:
    """The report's notes for its pages, each with its timecodes (`tc_in`, `tc_out`)."""
    notes = list(visible_notes(user).filter(report=report))
    for note in notes:
        note.tc_in, note.tc_out = note_timecodes(note)
    return notes

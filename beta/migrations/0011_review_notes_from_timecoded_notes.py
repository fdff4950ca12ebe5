"""The timecoded notes of feedback reports become review notes: each keeps its report, output, time and text; it gains
its author (the report's author: only the author could write notes) and the frame its time falls on (at the output's
frame rate; none when the rate is unknown). Revisions are not touched: their frozen content stays as submitted."""

import math

from django.db import migrations

NTSC = (24, 30, 48, 60, 120)


def _rate(fps):
    if not fps or fps <= 0:
        return None
    for base in NTSC:  # a probe reports 23.98 for 24000/1001: count at the exact rate, as the player does
        if abs(fps - base * 1000 / 1001) < 0.006:
            return base * 1000 / 1001
    return fps


def forwards(apps, schema_editor):
    FeedbackNote = apps.get_model("beta", "FeedbackNote")
    notes = FeedbackNote.objects.select_related("report", "output__asset").filter(author__isnull=True)
    batch = []
    for note in notes.iterator(chunk_size=500):
        note.author_id = note.report.author_id
        rate = _rate(note.output.asset.fps if note.output_id else None)
        if rate and note.frame is None:
            # times were kept to the millisecond: half of one is the rounding, not another frame
            note.frame = math.floor((note.seconds + 0.0005) * rate)
        batch.append(note)
        if len(batch) >= 500:
            FeedbackNote.objects.bulk_update(batch, ["author", "frame"])
            batch = []
    if batch:
        FeedbackNote.objects.bulk_update(batch, ["author", "frame"])


def backwards(apps, schema_editor):
    """Nothing to undo: the old columns (time, text) were never changed; the new ones go with the schema."""


class Migration(migrations.Migration):
    dependencies = [("beta", "0010_review_notes_frames_drawings_threads")]
    operations = [migrations.RunPython(forwards, backwards)]

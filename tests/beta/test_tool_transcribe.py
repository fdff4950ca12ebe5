"""Transcription (beta/tools/transcribe.py, beta/tools/whisper_model.py), its job page and its run through a worker.

Speech is made during the test with Debian's espeak-ng and mixed into a lavfi video (testsrc2) with the test suite's
ffmpeg: no media is committed. The transcript must hold the spoken words with a word error rate (WER) under
WER_BOUND = 0.25. Whisper tiny.en measured 0.07 on this voice at 130 words a minute ("jumps" heard as "jump", "two" as
"do"); faster synthetic speech measured up to 0.22, so the bound leaves room for library and CPU differences while
still failing a transcript that is mostly wrong, missing or invented.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import srt
import webvtt
from django.urls import reverse

from assets.models import Asset
from assets.services import asset_create_from_file
from assets.storage import get_store, s3_client
from beta.jobs.submit import job_submit
from beta.models import Job, JobInput, JobOutput
from beta.tools import get_tool, whisper_model
from beta.tools.base import ToolError
from beta.tools.transcribe import (
    LOAD_TO,
    TRANSCRIBE_TO,
    Segment,
    TranscribeTool,
    Word,
    make_cues,
    to_srt,
    to_vtt,
)
from beta.tools.whisper_model import ModelIntegrityError
from tests.beta.conftest import ProgressRecorder, run_ffmpeg, video_input
from tests.conftest import skip_or_fail, wait_for
from tests.factories import OwnerFactory

SPOKEN = (
    "The quick brown fox jumps over the lazy dog. "
    "We will shoot the final scene at the harbor tomorrow morning. "
    "Please bring the camera and two microphones."
)
WER_BOUND = 0.25
SPEECH_RATE = 130  # words a minute: espeak-ng's default 175 is faster than the synthetic voice stays clear
SPEECH_DELAY = 1.5  # seconds of silence before the speech starts in the clip
CLIP_SECONDS = 15.0
CLIP_TIMECODE = "01:00:00:00"
#: Whisper's timestamps are good to a few tenths of a second; cues may start or end this much outside the speech.
TIMING_TOLERANCE = 0.5


# Media made in the test ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory) -> Path:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        skip_or_fail("espeak-ng is not installed (apt-get install -y espeak-ng)")
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run([espeak, "-v", "en-us", "-s", str(SPEECH_RATE), "-w", str(path), SPOKEN], check=True, timeout=60)
    return path


@pytest.fixture(scope="module")
def speech_clip(speech_wav, tmp_path_factory) -> Path:
    """CLIP_SECONDS of testsrc2 (320x240, 25 fps, timecode 01:00:00:00) with the speech from SPEECH_DELAY seconds."""
    path = tmp_path_factory.mktemp("speech") / "scene 12 take 3.mp4"
    delay_ms = round(SPEECH_DELAY * 1000)
    run_ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={CLIP_SECONDS}",
        "-i", str(speech_wav),
        "-filter_complex", f"[1:a]aresample=48000,adelay={delay_ms}:all=1,apad,atrim=0:{CLIP_SECONDS}[a]",
        "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", "-threads", "2", "-metadata", f"timecode={CLIP_TIMECODE}", str(path),
    )  # fmt: skip
    return path


def sound_of(path: Path) -> np.ndarray:
    """The file's sound as 16 kHz mono float samples (decoded by the test suite's ffmpeg)."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
               "-ac", "1", "-ar", "16000", "-f", "s16le", "pipe:1"]  # fmt: skip
    data = subprocess.run(command, capture_output=True, timeout=60, check=True).stdout
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


@pytest.fixture(scope="module")
def speech_span(speech_clip) -> tuple[float, float]:
    """(first, last) second where the clip's sound is above the noise floor: where the speech is, measured."""
    samples = sound_of(speech_clip)
    loud = np.flatnonzero(np.abs(samples) > 0.02)
    assert loud.size, "the test clip has no audible speech"
    return loud[0] / 16000, loud[-1] / 16000


@pytest.fixture(scope="module")
def transcribed(speech_clip, tmp_path_factory):
    """The tool run once on the speech clip with its default parameters: (result, progress recorder)."""
    work = tmp_path_factory.mktemp("transcribe-work")
    from beta.tools.base import ToolContext

    recorder = ProgressRecorder()
    result = TranscribeTool().run(
        [video_input(speech_clip, "scene 12 take 3.mp4")], {}, recorder, ToolContext(work, "Northlight Pictures")
    )
    return result, recorder


def by_role(result) -> dict:
    return {output.role: output for output in result.outputs}


# Word error rate -----------------------------------------------------------------------------------------------------


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("harbour", "harbor"))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by word-level edit distance."""
    ref, hyp = words_of(reference), words_of(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1] / max(len(ref), 1)


def test_word_error_rate_counts_edits():
    assert word_error_rate("the quick brown fox", "the quick brown fox") == 0
    assert word_error_rate("the quick brown fox", "the quick round fox") == 0.25
    assert word_error_rate("the quick brown fox", "") == 1
    assert word_error_rate("a b", "a x b y") == 1


# The tool ------------------------------------------------------------------------------------------------------------


def test_the_tool_is_in_the_catalogue_with_a_valid_schema():
    import jsonschema

    tool = get_tool("transcribe")
    assert isinstance(tool, TranscribeTool)
    jsonschema.Draft202012Validator.check_schema(tool.parameters)
    jsonschema.validate(tool.defaults(), tool.parameters)
    assert tool.input_kinds == ("video", "audio")
    assert tool.queue == "cpu"
    assert tool.soft_time_limit < tool.time_limit


def test_the_transcript_holds_the_spoken_words(transcribed):
    result, _ = transcribed
    transcript = json.loads(by_role(result)["transcript"].path.read_text(encoding="utf-8"))
    heard = " ".join(segment["text"] for segment in transcript["segments"])
    wer = word_error_rate(SPOKEN, heard)
    assert wer < WER_BOUND, f"WER {wer:.2f} for: {heard!r}"
    # The subtitles say the same words.
    subtitles = " ".join(cue.content for cue in srt.parse(by_role(result)["srt"].path.read_text(encoding="utf-8")))
    assert word_error_rate(SPOKEN, subtitles) < WER_BOUND


def test_segments_carry_seconds_source_timecode_and_word_timings(transcribed, speech_span):
    result, _ = transcribed
    transcript = json.loads(by_role(result)["transcript"].path.read_text(encoding="utf-8"))
    assert transcript["start_timecode"] == CLIP_TIMECODE
    assert transcript["timecode_from"] == "source"
    assert transcript["fps"] == 25
    assert transcript["model"]["name"] == "tiny.en"
    assert transcript["model"]["sha256"] == whisper_model.MODEL_SHA256
    assert abs(transcript["duration"] - CLIP_SECONDS) < 0.1
    first = transcript["segments"][0]
    # 01:00:00:00 plus the segment's start in frames at 25 fps.
    frames = int(first["start"] * 25 + 1e-6)
    assert first["start_tc"] == f"01:00:{frames // 25:02d}:{frames % 25:02d}"
    assert abs(first["start"] - speech_span[0]) < 1.0
    words = [word for segment in transcript["segments"] for word in segment["words"]]
    assert {"quick", "fox", "harbor", "camera"} <= {w["word"].strip(".,").lower() for w in words}
    assert all(w["start"] <= w["end"] for w in words)
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)


def test_srt_timings_lie_inside_the_speech_and_both_subtitle_files_parse(transcribed, speech_span):
    result, _ = transcribed
    outputs = by_role(result)
    cues = list(srt.parse(outputs["srt"].path.read_text(encoding="utf-8")))
    first, last = speech_span
    assert len(cues) >= 3  # three sentences of speech: more than one subtitle
    for previous, cue in zip([None, *cues], cues, strict=False):
        start, end = cue.start.total_seconds(), cue.end.total_seconds()
        assert first - TIMING_TOLERANCE <= start < end <= last + TIMING_TOLERANCE, (start, end, speech_span)
        assert previous is None or previous.end.total_seconds() <= start  # no overlaps
        lines = cue.content.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= 42 for line in lines)

    vtt_text = outputs["vtt"].path.read_text(encoding="utf-8")
    assert vtt_text.startswith("WEBVTT\n")
    captions = list(webvtt.from_string(vtt_text))
    assert [c.text for c in captions] == [c.content for c in cues]
    assert [(_seconds(c.start), _seconds(c.end)) for c in captions] == [
        (round(c.start.total_seconds(), 3), round(c.end.total_seconds(), 3)) for c in cues
    ]
    assert outputs["vtt"].content_type == "text/vtt"
    assert outputs["srt"].content_type == "application/x-subrip"
    assert outputs["srt"].filename == "scene_12_take_3.en.srt"


def _seconds(label: str) -> float:
    hours, minutes, seconds = label.split(":")
    return round(int(hours) * 3600 + int(minutes) * 60 + float(seconds), 3)


def test_progress_follows_the_segments_against_the_duration(transcribed):
    result, recorder = transcribed
    percents = recorder.percents
    assert percents == sorted(percents)
    assert percents[-1] == 100
    transcribing = [(p, stage) for p, stage, _ in recorder.calls if stage.startswith("Transcribing: ")]
    assert transcribing, recorder.calls
    assert all(LOAD_TO <= p <= TRANSCRIBE_TO for p, _ in transcribing)
    assert transcribing[-1][1].endswith("of 0:15")
    assert result.summary["lines"][0]["tc"].startswith("01:00:0")
    assert result.summary["cue_count"] == len(result.summary["lines"])


def test_a_sound_file_is_transcribed_with_timecode_at_the_fallback_rate(speech_wav, tool_context):
    recorder = ProgressRecorder()
    result = TranscribeTool().run(
        [video_input(speech_wav, "line.wav", kind="audio")],
        {"word_timings": False, "start_timecode": "10:00:00:00"},
        recorder,
        tool_context,
    )
    transcript = json.loads(by_role(result)["transcript"].path.read_text(encoding="utf-8"))
    assert transcript["timecode_from"] == "parameter"
    assert transcript["segments"][0]["start_tc"].startswith("10:00:00:")
    assert "words" not in transcript["segments"][0]
    assert word_error_rate(SPOKEN, " ".join(s["text"] for s in transcript["segments"])) < WER_BOUND
    assert "counted at 25 fps" in recorder.logs


def test_a_file_without_sound_is_refused_with_a_message(tool_context, tmp_path):
    silent = tmp_path / "mute.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(silent))  # fmt: skip
    with pytest.raises(ToolError, match="no sound to transcribe"):
        TranscribeTool().run([video_input(silent)], {}, ProgressRecorder(), tool_context)


def test_silence_gives_an_empty_transcript_not_invented_words(tool_context, tmp_path):
    quiet = tmp_path / "room_tone.wav"
    run_ffmpeg("-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.002:duration=4:sample_rate=16000", str(quiet))
    result = TranscribeTool().run([video_input(quiet, "room_tone.wav", "audio")], {}, ProgressRecorder(), tool_context)
    assert result.summary["segment_count"] == 0
    assert result.summary["lines"] == []
    assert by_role(result)["vtt"].path.read_text(encoding="utf-8") == "WEBVTT\n"
    assert list(srt.parse(by_role(result)["srt"].path.read_text(encoding="utf-8"))) == []


def test_the_model_loads_and_transcribes_with_no_network(monkeypatch, speech_wav, tool_context):
    import socket

    def refuse(self, address):
        raise AssertionError(f"network access to {address}")

    whisper_model.clear_cache()
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    result = TranscribeTool().run([video_input(speech_wav, "line.wav", "audio")], {}, ProgressRecorder(), tool_context)
    assert result.summary["segment_count"] > 0


def test_the_model_is_loaded_once_per_process():
    first = whisper_model.load_model()
    assert whisper_model.load_model() is first
    assert first.path == whisper_model.default_model_dir().resolve()


# Cues ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", ["word", "wordwordwo"], ids=["short words", "one word a line"])
def test_a_long_segment_is_cut_between_words_into_short_cues_inside_the_media(stem):
    # Given 30 words, one every 0.4 s, in a single 12 s segment (12-letter words: only one fits a line of 20)
    words = [Word(start=i * 0.4, end=i * 0.4 + 0.3, text=f" {stem}{i:02d}") for i in range(30)]
    segment = Segment(start=0.0, end=12.0, text="".join(w.text for w in words).strip(), words=words)
    # When cut into cues for media that ends at 11.5 s
    cues = make_cues([segment], width=20, duration=11.5)
    # Then each cue is at most two lines of 20, at most seven seconds, in order, inside the media
    assert len(cues) > 2
    assert " ".join(" ".join(c.lines) for c in cues) == segment.text
    for previous, cue in zip([None, *cues], cues, strict=False):
        assert len(cue.lines) <= 2
        assert all(len(line) <= 20 for line in cue.lines)
        assert 0 <= cue.start < cue.end <= 11.5
        assert cue.end - cue.start <= 7.0
        assert previous is None or previous.end <= cue.start


def test_subtitle_text_cannot_break_the_files():
    cues = make_cues([Segment(start=1.0, end=1.0, text="<b>Cut</b> --> & print")], width=42, duration=10)
    assert cues[0].end > cues[0].start  # a zero-length segment still shows for a moment
    vtt_text = to_vtt(cues)
    assert "&lt;b&gt;Cut&lt;/b&gt; --&gt; &amp; print" in vtt_text
    assert [c.text for c in webvtt.from_string(vtt_text)] == ["&lt;b&gt;Cut&lt;/b&gt; --&gt; &amp; print"]
    [parsed] = srt.parse(to_srt(cues))
    assert parsed.content == "<b>Cut</b> -> & print"


# The model's integrity -----------------------------------------------------------------------------------------------


@pytest.fixture
def model_copy(tmp_path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(whisper_model.default_model_dir(), copy)
    return copy


def test_a_changed_model_is_refused_and_not_loaded(model_copy, monkeypatch, tool_context, speech_wav):
    assert whisper_model.verify_model_dir(model_copy) == whisper_model.MODEL_SHA256  # the copy itself is fine
    # Change one byte in the middle of the weights.
    with (model_copy / "model.bin").open("r+b") as fh:
        fh.seek(40_000_000)
        byte = fh.read(1)
        fh.seek(40_000_000)
        fh.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(ModelIntegrityError, match=r"integrity check.*model\.bin has changed"):
        whisper_model.load_model(model_copy)
    assert model_copy.resolve() not in whisper_model._cache

    # The tool refuses to run on it, with a message that says why.
    monkeypatch.setattr(whisper_model, "default_model_dir", lambda: model_copy)
    with pytest.raises(ToolError, match="speech model failed its integrity check"):
        TranscribeTool().run([video_input(speech_wav, "line.wav", "audio")], {}, ProgressRecorder(), tool_context)


@pytest.mark.parametrize("change", ["missing", "extra"])
def test_a_model_folder_with_a_missing_or_extra_file_is_refused(model_copy, change):
    if change == "missing":
        (model_copy / "vocabulary.txt").unlink()
        expected = "vocabulary.txt is missing"
    else:
        (model_copy / "preprocessor_config.json").write_text("{}", encoding="utf-8")
        expected = "preprocessor_config.json is not part of the recorded model"
    with pytest.raises(ModelIntegrityError, match=re.escape(expected)):
        whisper_model.load_model(model_copy)


# The job page --------------------------------------------------------------------------------------------------------


def _stored_output(job, path: Path, *, role: str, kind: str, content_type: str, label: str = "") -> JobOutput:
    asset = asset_create_from_file(
        organization=job.organization, created_by=None, path=path, kind=kind, filename=path.name,
        content_type=content_type, make_previews=False,
    )  # fmt: skip
    return JobOutput.objects.create(job=job, asset=asset, role=role, label=label or role)


def finished_job(owner, result, speech_clip) -> tuple[Job, Asset]:
    """A succeeded transcription job of the owner's studio, as the pipeline leaves it: the input stored with its web
    proxy (as after a verified upload), the tool's outputs stored as the studio's assets, the summary on the row."""
    clip = asset_create_from_file(
        organization=owner.organization, created_by=owner.user, path=speech_clip, kind="video",
        filename=speech_clip.name, content_type="video/mp4",
    )  # fmt: skip
    assert clip.renditions.filter(kind="proxy").exists()
    job = Job.objects.create(
        organization=owner.organization, submitted_by=owner.user, tool_slug="transcribe", tool_version="1.0.0",
        status="succeeded", progress=100, summary=result.summary,
    )  # fmt: skip
    JobInput.objects.create(job=job, asset=clip, position=0, sha256=clip.sha256)
    for output in result.outputs:
        _stored_output(job, output.path, role=output.role, kind=output.kind, content_type=output.content_type,
                       label=output.label)  # fmt: skip
    return job, clip


@pytest.mark.django_db
def test_the_job_page_plays_the_proxy_with_the_subtitles_on_and_lists_the_transcript(client, transcribed, speech_clip):
    result, _ = transcribed
    owner = OwnerFactory()
    client.force_login(owner.user)
    job, clip = finished_job(owner, result, speech_clip)

    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()

    track_url = reverse("beta:job-subtitles", args=[job.pk])
    assert f'src="{reverse("assets:rendition", args=[clip.pk, "proxy"])}"' in body
    track = re.search(r"<track [^>]*>", body).group(0)
    assert f'src="{track_url}"' in track
    assert " default" in track
    assert 'kind="subtitles"' in track
    assert 'srclang="en"' in track
    first_line = result.summary["lines"][0]
    assert f'data-start="{first_line["start"]:.3f}"' in body
    assert first_line["tc"] in body
    assert first_line["text"] in body
    # Each file is offered for download too.
    for job_output in job.job_outputs.all():
        assert f'href="{reverse("assets:download", args=[job_output.asset_id])}"' in body
    assert body.count('class="transcript__line"') == len(result.summary["lines"])

    response = client.get(track_url)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "text/vtt"
    vtt_text = b"".join(response).decode() if response.streaming else response.content.decode()
    assert vtt_text == by_role(result)["vtt"].path.read_text(encoding="utf-8")
    assert list(webvtt.from_string(vtt_text))

    # Another studio's member gets nothing.
    client.force_login(OwnerFactory().user)
    assert client.get(track_url).status_code == 404


@pytest.fixture
def s3_mode(s3_bucket, settings):
    """The portal in S3 mode against moto's server over HTTP (as tests/assets/test_uploads.py sets it up)."""
    settings.USE_S3 = True
    settings.AWS_STORAGE_BUCKET_NAME = s3_bucket["bucket"]
    settings.AWS_S3_ENDPOINT_URL = settings.AWS_S3_PUBLIC_ENDPOINT_URL = s3_bucket["endpoint"]
    settings.AWS_ACCESS_KEY_ID = settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    s3_client.cache_clear()
    yield s3_bucket
    s3_client.cache_clear()


@pytest.mark.django_db
def test_in_s3_mode_the_track_is_served_from_the_portal_not_redirected_to_storage(client, s3_mode, tmp_path):
    # A download redirects to a presigned URL on the storage host: another origin, which a <track> may not load.
    owner = OwnerFactory()
    client.force_login(owner.user)
    vtt = tmp_path / "take.en.vtt"
    vtt.write_text("WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.500\nRolling.\n", encoding="utf-8")
    job = Job.objects.create(
        organization=owner.organization, submitted_by=owner.user, tool_slug="transcribe", tool_version="1.0.0",
        status="succeeded", summary={"lines": []},
    )  # fmt: skip
    stored = _stored_output(job, vtt, role="vtt", kind="document", content_type="text/vtt")
    download = client.get(reverse("assets:download", args=[stored.asset_id]))
    assert download.status_code == 302
    assert download["Location"].startswith(s3_mode["endpoint"])

    response = client.get(reverse("beta:job-subtitles", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    assert response.content == vtt.read_bytes()
    assert response["tdm-reservation"] == "1"  # a partner's dialogue: not for training, never cached
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_a_job_without_subtitles_has_no_track_url(client):
    owner = OwnerFactory()
    client.force_login(owner.user)
    job = Job.objects.create(
        organization=owner.organization, submitted_by=owner.user, tool_slug="transcribe", tool_version="1.0.0",
        status="failed", error="This file has no sound to transcribe.",
    )  # fmt: skip
    assert client.get(reverse("beta:job-subtitles", args=[job.pk])).status_code == 404
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert "<track" not in body


# Through the real pipeline -------------------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_transcription_job_runs_in_a_real_worker_and_its_page_shows_the_subtitles(
    celery_worker_process, speech_clip, client, tmp_path
):
    owner = OwnerFactory(organization__max_concurrent_jobs=2)
    clip = asset_create_from_file(
        organization=owner.organization, created_by=owner.user, path=speech_clip, kind="video",
        filename=speech_clip.name, content_type="video/mp4",
    )  # fmt: skip
    job = job_submit(actor=owner.user, tool_slug="transcribe", asset_ids=[clip.pk], parameters={})
    job = wait_for(
        lambda: Job.objects.filter(pk=job.pk, status__in=Job.FINISHED).first(), timeout=120, message="transcription"
    )
    assert job.status == "succeeded", job.error or job.log
    assert job.progress == 100
    outputs = {o.role: o for o in job.job_outputs.select_related("asset")}
    assert set(outputs) == {"transcript", "srt", "vtt"}
    assert all(o.asset.status == Asset.Status.READY and o.asset.kind == "document" for o in outputs.values())
    with get_store().open(outputs["transcript"].asset.storage_key) as fh:
        transcript = json.loads(fh.read())
    assert word_error_rate(SPOKEN, " ".join(s["text"] for s in transcript["segments"])) < WER_BOUND
    assert job.summary["lines"]

    client.force_login(owner.user)
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    track_url = reverse("beta:job-subtitles", args=[job.pk])
    assert re.search(rf'<track [^>]*src="{re.escape(track_url)}"[^>]* default>', body)
    response = client.get(track_url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/vtt")
    captions = list(webvtt.from_string(response.content.decode()))
    assert word_error_rate(SPOKEN, " ".join(c.text for c in captions)) < WER_BOUND


# In Chromium ---------------------------------------------------------------------------------------------------------

from tests.browser.conftest import ARTIFACTS, browser_type_launch_args  # noqa: E402, F401 (Chromium's launch fixture)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_chromium_the_subtitles_load_as_a_track_and_a_transcript_line_seeks_the_player(
    browser, live_server, transcribed, speech_clip
):
    from django.conf import settings
    from django.test import Client

    result, _ = transcribed
    owner = OwnerFactory()
    job, _ = finished_job(owner, result, speech_clip)
    client = Client()
    client.force_login(owner.user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])  # fmt: skip
    page = context.new_page()
    try:
        page.goto(live_server.url + reverse("beta:job-detail", args=[job.pk]))
        # The browser fetched the track, parsed its cues and shows them (the default track).
        page.wait_for_function(
            "() => { const t = document.querySelector('[data-transcript-player] video').textTracks[0];"
            " return t && t.mode === 'showing' && t.cues && t.cues.length > 0; }",
            timeout=20_000,
        )
        cues = page.evaluate("() => document.querySelector('[data-transcript-player] video').textTracks[0].cues.length")
        assert cues == result.summary["cue_count"]
        # Choosing the second line moves the player there and marks the line.
        second = page.locator(".transcript__line").nth(1)
        second.click()
        start = result.summary["lines"][1]["start"]
        page.wait_for_function(f"() => Math.abs(document.querySelector('video').currentTime - {start}) < 1.0")
        page.wait_for_function("() => document.querySelector('.transcript__line[aria-current=true]') !== null")
        page.evaluate("() => document.querySelector('video').pause()")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "transcribe-job.png"), full_page=True)
        page.set_viewport_size({"width": 360, "height": 800})
        page.screenshot(path=str(ARTIFACTS / "transcribe-job-360.png"), full_page=True)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    finally:
        context.close()

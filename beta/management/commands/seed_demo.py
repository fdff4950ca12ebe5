"""Create the demo programme, idempotently: people (portal.demo), a demo video, and finished demo jobs."""

import tempfile
from pathlib import Path

from django.db import transaction

from assets.media import ffmpeg_exe
from assets.models import Asset
from assets.services import asset_create_from_file
from beta import tools as catalogue
from beta.jobs.execute import job_execute
from beta.jobs.submit import validate_parameters
from beta.models import Job, JobInput
from beta.results.demo import seed_results_demo
from portal.demo import SeedPeople
from portal.models import Membership

DEMO_VIDEO_NAME = "DEMO_A001_C003_battle_wide.mp4"
DEMO_JOBS = [("dailies", {"height": 360}), ("shot-detect", {})]


def _make_demo_video(path: Path) -> None:
    """Eight seconds in three shots (two cuts), 640x360 at 25 fps, with a tone and source timecode."""
    import subprocess

    segments = ["testsrc2=size=640x360:rate=25:duration=3", "smptehdbars=size=640x360:rate=25:duration=2",
                "rgbtestsrc=size=640x360:rate=25:duration=3"]
    args = [ffmpeg_exe(), "-nostdin", "-y", "-hide_banner", "-loglevel", "error"]
    for segment in segments:
        args += ["-f", "lavfi", "-t", "3", "-i", segment]
    args += ["-f", "lavfi", "-t", "8", "-i", "sine=frequency=440:sample_rate=48000",
             "-filter_complex", "[0:v]trim=duration=3[a];[1:v]trim=duration=2[b];[2:v]trim=duration=3[c];"
                                "[a][b][c]concat=n=3:v=1:a=0,format=yuv420p[v]",
             "-map", "[v]", "-map", "3:a", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
             "-c:a", "aac", "-b:a", "96k", "-timecode", "01:00:00:00", "-movflags", "+faststart", "-t", "8",
             str(path)]
    subprocess.run(args, check=True, timeout=120)  # noqa: S603 - fixed arguments, our own paths


class Command(SeedPeople):
    help = "Create the demo programme: staff, studios, a cohort, invites, a demo video and finished demo jobs."

    def handle(self, *args, **options):
        super().handle(*args, **options)
        owner = Membership.objects.select_related("user", "organization").get(user__email="owner@northlight.test")
        video = Asset.objects.filter(organization=owner.organization, original_filename=DEMO_VIDEO_NAME).first()
        if video is None:
            self.stdout.write("Making the demo video and running the demo jobs (a few seconds)…")
            with tempfile.TemporaryDirectory(prefix="gl-demo-") as tmp:
                path = Path(tmp) / DEMO_VIDEO_NAME
                _make_demo_video(path)
                video = asset_create_from_file(
                    organization=owner.organization, created_by=owner.user, path=path, kind="video",
                    filename=DEMO_VIDEO_NAME, content_type="video/mp4",
                )
            Asset.objects.filter(pk=video.pk).update(origin="upload")
        for slug, params in DEMO_JOBS:
            if Job.objects.filter(organization=owner.organization, tool_slug=slug, job_inputs__asset=video).exists():
                continue
            tool = catalogue.get_tool(slug)
            # Written and run here, not through the broker: the demo must not need a worker to exist.
            with transaction.atomic():
                job = Job.objects.create(
                    organization=owner.organization, submitted_by=owner.user, tool_slug=slug,
                    tool_version=tool.version, queue=tool.queue, parameters=validate_parameters(tool, params),
                    status=Job.Status.QUEUED, celery_task_id="demo",
                )
                JobInput.objects.create(job=job, asset=video, position=0, sha256=video.sha256)
            job_execute(job_id=job.pk, hostname="seed_demo")
            job.refresh_from_db()
            self.stdout.write(f"Demo job {job.pk} ({slug}): {job.get_status_display().lower()}.")
        self.stdout.write(self.style.SUCCESS(f"Demo footage ready: {DEMO_VIDEO_NAME} with dailies and shot detection."))
        seed_results_demo(video=video, stdout=self.stdout)

"""Tool benchmark: script breakdown in seconds per page of script, upscaling in seconds per megapixel of input,
temp comp and each dailies format in seconds per second of 1080p footage.

    DJANGO_DEBUG=1 .venv/bin/python bench/tools_bench.py [--repeat 3] [--feature-copies 40] [--only dailies]

The tools are called directly (`Tool.run` with a progress callback that does nothing), in this process, on the
inputs their tests use (tests/beta/test_tool_script_breakdown.py and tests/beta/test_tool_upscale.py), so the numbers
are the tools' own work without the queue, the storage or the provenance signing around it:

  a. script breakdown of the test script (2 6/8 pages), and of a feature-length script made of --feature-copies
     copies of it one after the other: the parse and breakdown alone (`build_breakdown`), and the whole tool (JSON,
     three CSV sheets, the HTML stripboard and its PDF through WeasyPrint). Pages are the breakdown's own eighths / 8.
  b. upscaling (Real-ESRGAN x2, ncnn on the CPU, the package's `realesr-animevideov3-x2`) of the test pictures
     (96 x 64, 300 x 270) and of a 1280 x 720 and a 1920 x 1080 plate made the same way; the whole tool, PNG writing
     and the before/after detail pair included. The network is loaded once before timing (a worker keeps it loaded).

  c. temp comp of a 5 s, 25 fps, 1920 x 1080 green-screen ProRes plate (a test pattern moving over the screen, with
     temporal grain, made by ffmpeg) over a 1080p still: comp mode with the defaults (key, colour match, grain, light
     wrap), and crowd mode with 12 copies; the whole tool (ProRes comp, matte, H.264 review copy), and the frame maths
     alone on decoded frames. Each row carries the load average when it ended (the machine is shared).

  c'. (--only temp-comp-ab) the same temp comp (comp mode) before and after issue 19's second speed pass: A is the
     tool as it was at --baseline (its module read with `git show`), B this checkout's, run A B A B (--rounds) on
     the same plate; wall time, CPU time (this process and the ffmpeg children) and the load average for each run.

  d. dailies of a 2 s, 25 fps, 1920 x 1080 H.264 clip with a tone (testsrc2, made by ffmpeg) in each format: the
     720p H.264 review copy alone, and with each editorial deliverable (ProRes 422 HQ, ProRes 422 Proxy, DNxHR HQ
     at 1080p) made in the same ffmpeg run; the whole tool, poster and contact sheet included.

Each measurement is the median of --repeat runs (after one warm-up run). Nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def median_seconds(fn, repeat: int) -> float:
    fn()  # warm-up: imports, fonts, the network's weights
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--feature-copies", type=int, default=40)
    parser.add_argument("--only", choices=["script-breakdown", "upscale", "temp-comp", "temp-comp-ab", "dailies"],
                        default=None)  # fmt: skip
    parser.add_argument("--baseline", default=TEMP_COMP_BASELINE,
                        help="git revision whose beta/tools/temp_comp.py is the A of --only temp-comp-ab")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2, help="A/B rounds of --only temp-comp-ab")
    args = parser.parse_args()
    setup_django()

    import cv2

    from beta.tool_settings import ToolSettings, render_template
    from beta.tools.base import ToolContext, ToolInput
    from beta.tools.script_breakdown import ScriptBreakdownTool, build_breakdown, eighths_label
    from beta.tools.upscale import UpscaleTool, _network
    from tests.beta.test_tool_script_breakdown import SCRIPT
    from tests.beta.test_tool_upscale import make_picture

    def quiet(*_args, **_kwargs) -> None:
        return None

    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="tools-bench-") as tmp:
        folder = Path(tmp)

        def context() -> ToolContext:
            work = Path(tempfile.mkdtemp(dir=folder))
            return ToolContext(
                work_dir=work,
                studio_name="Bench Pictures",
                job_label="bench",
                settings=ToolSettings(),
                render_template=render_template,
            )

        # a. Script breakdown.
        scripts = [] if args.only not in (None, "script-breakdown") else [("test script", SCRIPT)]
        feature = "\n".join([SCRIPT] + [SCRIPT.split("FADE IN:", 1)[1]] * (args.feature_copies - 1))
        if scripts:
            scripts.append((f"test script x {args.feature_copies}", feature))
        for label, text in scripts:
            path = folder / "script.fountain"
            path.write_text(text, encoding="utf-8")
            breakdown = build_breakdown(text)
            pages = breakdown.total_eighths / 8
            size = f"{len(breakdown.scenes)} scenes, {eighths_label(breakdown.total_eighths)} pages"
            parse = median_seconds(lambda text=text: build_breakdown(text), args.repeat)
            source = ToolInput(path=path, kind="script", filename="script.fountain", sha256="0" * 64)
            whole = median_seconds(lambda source=source: ScriptBreakdownTool().run([source], {}, quiet, context()),
                                   args.repeat)  # fmt: skip
            rows.append(("script-breakdown: parse and breakdown", f"{label} ({size})", f"{parse:.3f} s",
                         f"{parse / pages * 1000:.2f} ms/page"))  # fmt: skip
            rows.append(("script-breakdown: whole tool (CSV, HTML, PDF)", f"{label} ({size})", f"{whole:.3f} s",
                         f"{whole / pages:.3f} s/page"))  # fmt: skip

        # b. Upscaling.
        sizes = ((96, 64), (300, 270), (1280, 720), (1920, 1080)) if args.only in (None, "upscale") else ()
        if sizes:
            _network()
        for width, height in sizes:
            path = folder / f"plate_{width}x{height}.png"
            cv2.imwrite(str(path), make_picture(width, height))
            source = ToolInput(path=path, kind="image", filename=path.name, sha256="0" * 64)
            seconds = median_seconds(lambda source=source: UpscaleTool().run([source], {}, quiet, context()),
                                     1 if width * height > 500_000 else args.repeat)  # fmt: skip
            megapixels = width * height / 1e6
            rows.append(("upscale: Real-ESRGAN x2, whole tool", f"{width} x {height} ({megapixels:.3f} MP)",
                         f"{seconds:.2f} s", f"{seconds / megapixels:.1f} s/MP"))  # fmt: skip

        # c. Temp comp.
        if args.only in (None, "temp-comp"):
            rows += temp_comp_rows(folder, context, quiet)

        # c'. Temp comp before and after the speed work, alternately, on the same plate.
        if args.only == "temp-comp-ab":
            rows += temp_comp_ab_rows(folder, context, quiet, args.baseline, args.rounds)

        # d. Dailies: each deliverable format.
        if args.only in (None, "dailies"):
            rows += dailies_rows(folder, context, quiet)

    print(f"Machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f} at the end.")  # fmt: skip
    print()
    print("| measurement | input | time (median) | rate |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


TEMP_COMP_SECONDS = 5
TEMP_COMP_FPS = 25
#: The last commit before issue 19's second speed pass (1080p veryfast review copy, grey ProRes 422 HQ matte).
TEMP_COMP_BASELINE = "ce786f9"


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its finished children (the ffmpeg processes)."""
    import resource

    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def make_temp_comp_inputs(folder: Path):
    """The 5 s 1080p green-screen ProRes plate and the 1080p still, as the tool's inputs."""
    import subprocess

    from beta.tools.base import ToolInput
    from media.ffmpeg import command

    plate, still = folder / "plate_1080p.mov", folder / "bg_1080p.png"
    # A box moving over the screen, with temporal grain on the whole plate (so grain matching has grain to match).
    subprocess.run(command(["-loglevel", "error", "-f", "lavfi",
                            "-i", f"color=c=0x00E000:size=1920x1080:rate={TEMP_COMP_FPS}:d={TEMP_COMP_SECONDS}",
                            "-f", "lavfi", "-i", f"testsrc2=size=500x800:rate={TEMP_COMP_FPS}:d={TEMP_COMP_SECONDS}",
                            "-filter_complex", "[0:v][1:v]overlay=x='200+t*300':y=200,noise=alls=6:allf=t",
                            "-c:v", "prores_ks", "-profile:v", "3", str(plate)]), check=True)  # fmt: skip
    subprocess.run(command(["-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=1920x1080", "-frames:v", "1",
                            str(still)]), check=True)  # fmt: skip
    return [
        ToolInput(path=plate, kind="video", filename=plate.name, sha256="0" * 64),
        ToolInput(path=still, kind="image", filename=still.name, sha256="0" * 64),
    ]


def baseline_tool(revision: str, folder: Path):
    """The temp-comp tool class as it was at a git revision (its module loaded from `git show`)."""
    import importlib.util
    import subprocess

    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:beta/tools/temp_comp.py"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    path = folder / "temp_comp_baseline.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("temp_comp_baseline", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"could not load the temp-comp tool of {revision}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.TempCompTool


def temp_comp_ab_rows(folder: Path, context, quiet, baseline: str, rounds: int) -> list[tuple[str, str, str, str]]:
    """The whole tool (comp mode, defaults) before (A: the tool at `baseline`) and after (B: this checkout), run
    alternately A B A B... on the same plate. Each run: wall time, CPU time (this process's threads and the ffmpeg
    children, from getrusage), and the load average when it ended."""
    from beta.tools.temp_comp import TempCompTool

    inputs = make_temp_comp_inputs(folder)
    frames = TEMP_COMP_SECONDS * TEMP_COMP_FPS
    tools = {f"A (before, {baseline})": baseline_tool(baseline, folder), "B (after, this checkout)": TempCompTool}
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in tools}
    rows = []
    for round_ in range(1, rounds + 1):
        for label, tool in tools.items():
            started, cpu = time.perf_counter(), cpu_seconds()
            tool().run(inputs, {}, quiet, context())
            seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            runs[label].append((seconds, cpu))
            rows.append((f"temp-comp A/B round {round_}: {label}", f"1920 x 1080, {frames} frames",
                         f"{seconds:.1f} s wall, {cpu:.1f} s CPU",
                         f"CPU {cpu / frames * 1000:.0f} ms/frame; {frames / seconds:.1f} fps wall; "
                         f"{2 * frames / cpu:.1f} fps on two free cores; load {load_average()}"))  # fmt: skip
    for label, measured in runs.items():
        cpu_ms = statistics.mean(cpu for _, cpu in measured) / frames * 1000
        fps = statistics.mean(frames / seconds for seconds, _ in measured)
        rows.append((f"temp-comp A/B mean: {label}", f"{len(measured)} runs", f"CPU {cpu_ms:.0f} ms/frame",
                     f"{fps:.1f} fps wall; {2000 / cpu_ms:.1f} fps on two free cores"))  # fmt: skip
    return rows


def temp_comp_rows(folder: Path, context, quiet) -> list[tuple[str, str, str, str]]:
    """The whole tool on a 5 s 1080p plate (ProRes in; ProRes comp, grey ProRes matte and H.264 review out), and the
    frame maths alone (`media.comp` on decoded frames, no decode or encode), each with the load average when it
    ended: other sessions share the machine's two cores."""
    from beta.tools.temp_comp import Frames, TempCompTool
    from media import comp

    seconds_of_footage, frames = TEMP_COMP_SECONDS, TEMP_COMP_SECONDS * TEMP_COMP_FPS
    inputs = make_temp_comp_inputs(folder)
    plate, still = inputs[0].path, inputs[1].path
    footage = f"1920 x 1080, {seconds_of_footage} s at {TEMP_COMP_FPS} fps"
    rows = []
    for label, params in (("comp (key, colour match, grain, light wrap)", {}),
                          ("crowd, 12 copies", {"mode": "crowd", "crowd_copies": 12})):  # fmt: skip
        started, cpu = time.perf_counter(), cpu_seconds()
        TempCompTool().run(inputs, params, quiet, context())
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        rows.append((f"temp-comp: {label}, whole tool", footage, f"{seconds:.2f} s wall, {cpu:.1f} s CPU",
                     f"{seconds / seconds_of_footage:.2f} s per second of footage ({frames / seconds:.1f} fps); "
                     f"CPU {cpu / seconds_of_footage:.2f} s per second of footage, {2 * frames / cpu:.1f} fps on two "
                     f"free cores; load {load_average()}"))  # fmt: skip

    # The frame maths alone, on frames decoded beforehand.
    source = Frames(plate, 1920, 1080, str(TEMP_COMP_FPS))
    decoded = list(source)
    source.close()
    background = cv2_read_rgb(still)
    settings = comp.CompSettings(colour_match=0.5, grain=True, light_wrap_width=4, light_wrap_strength=0.2)
    comper = comp.Comper(settings=settings, screen=comp.detect_screen(decoded[0]))
    comper.comp(decoded[0], background, 0)  # the once-per-clip work: statistics, grain fields, prepared background
    started, cpu = time.perf_counter(), time.process_time()
    for index, frame in enumerate(decoded):
        comper.comp(frame, background, index)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows.append(("temp-comp: frame maths only (media.comp, comp mode)", f"{len(decoded)} decoded 1080p frames",
                 f"{seconds:.2f} s wall, {cpu:.1f} s CPU",
                 f"{seconds / len(decoded) * 1000:.1f} ms/frame ({len(decoded) / seconds:.1f} fps); CPU "
                 f"{cpu / len(decoded) * 1000:.1f} ms/frame; load {load_average()}"))  # fmt: skip
    rows.append(comp_streamed_row(plate, background, settings, folder))
    rows += deliverable_rows(decoded, folder)
    return rows


def _timed_wall_cpu(fn) -> tuple[float, float]:
    started, cpu = time.perf_counter(), cpu_seconds()
    fn()
    return time.perf_counter() - started, cpu_seconds() - cpu


def _rate_row(label: str, what: str, frames: int, seconds: float, cpu: float) -> tuple[str, str, str, str]:
    return (label, what, f"{seconds:.2f} s wall, {cpu:.1f} s CPU",
            f"**{frames / seconds:.1f} fps** on both cores ({seconds / (frames / TEMP_COMP_FPS):.2f} s per second of "
            f"footage); CPU {cpu / frames * 1000:.0f} ms/frame; load {load_average()}")  # fmt: skip


def comp_streamed_row(plate: Path, background, settings, folder: Path) -> tuple[str, str, str, str]:
    """The comp itself as the tool streams it, both cores free to it: the plate decoded by ffmpeg into a pipe (the
    tool's `Frames`, with its reader thread), key + despill + colour match + grain + light wrap per frame (the
    tool's `Comper`, OpenCV on one thread as in the tool), and each composite written to an ffmpeg pipe that
    discards it (`-f null`): everything but the deliverables' encoders, which the rows after this one measure."""
    import subprocess

    from beta.tools.temp_comp import Frames, single_threaded_opencv
    from media import comp
    from media.ffmpeg import command

    def run() -> int:
        count = 0
        plates = Frames(plate, 1920, 1080, str(TEMP_COMP_FPS))
        sink = subprocess.Popen(command(["-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                                         "-s", "1920x1080", "-r", str(TEMP_COMP_FPS), "-i", "pipe:0", "-f", "null",
                                         "-"]), stdin=subprocess.PIPE)  # fmt: skip
        try:
            comper = None
            with single_threaded_opencv():
                for index, frame in enumerate(plates):
                    comper = comper or comp.Comper(settings=settings, screen=comp.detect_screen(frame))
                    out, _alpha = comper.comp(frame, background, index)
                    sink.stdin.write(out.data)  # type: ignore[union-attr]
                    count += 1
        finally:
            plates.close()
            sink.stdin.close()  # type: ignore[union-attr]
            sink.wait()
        return count

    run()  # warm-up
    counted: list[int] = []
    seconds, cpu = _timed_wall_cpu(lambda: counted.append(run()))
    return _rate_row("temp-comp: the comp streamed (decode, key, despill, colour match, grain, light wrap; "
                     "composites piped out, not encoded)", f"{counted[0]} frames, 1920 x 1080", counted[0], seconds,
                     cpu)  # fmt: skip


def deliverable_rows(frames: list, folder: Path) -> list[tuple[str, str, str, str]]:
    """Each of the tool's deliverables encoded on its own, both cores free to it, from the same raw 1080p frames
    through the tool's own `Writer` (the grainy plate's frames stand in for composites: grain is what costs an
    encoder): the ProRes 422 HQ comp, the ProRes comp with the 720p H.264 review copy made from the same pipe (as
    the tool makes them), and the DNxHR LB matte."""
    import numpy as np

    from beta.tools.temp_comp import Writer

    label = folder / "label.txt"
    label.write_text("TEMP COMP", encoding="utf-8")
    greys = [np.ascontiguousarray(frame[:, :, 1]) for frame in frames]
    rate, tc = str(TEMP_COMP_FPS), "01:00:00:00"

    def encode(make, items) -> None:
        writer = make()
        for item in items:
            writer.write(item)
        writer.close()

    cases = (
        ("ProRes 422 HQ comp (prores_aw, profile 3)", lambda: Writer(folder / "d1.mov", 1920, 1080, rate, tc), frames),
        ("ProRes 422 HQ comp + 720p H.264 review copy (one ffmpeg, as the tool runs it)",
         lambda: Writer(folder / "d2.mov", 1920, 1080, rate, tc, review=(folder / "d2.mp4", str(label))), frames),
        ("matte, DNxHR LB (grey)", lambda: Writer(folder / "d3.mov", 1920, 1080, rate, tc, grey=True), greys),
    )  # fmt: skip
    rows = []
    for name, make, items in cases:
        encode(make, items[:10])  # warm-up
        seconds, cpu = _timed_wall_cpu(lambda make=make, items=items: encode(make, items))
        rows.append(_rate_row(f"temp-comp deliverable alone: {name}", f"{len(items)} raw 1080p frames", len(items),
                              seconds, cpu))  # fmt: skip
    return rows


def dailies_rows(folder: Path, context, quiet) -> list[tuple[str, str, str, str]]:
    """One run of dailies per format on a generated 1080p clip (the first format also warms up ffmpeg's cache)."""
    import subprocess

    from beta.tools.base import ToolInput
    from beta.tools.dailies import FORMATS, DailiesTool
    from media.ffmpeg import command

    seconds_of_footage = 2
    clip = folder / "dailies_1080p.mov"
    subprocess.run(command(["-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25",
                            "-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", str(seconds_of_footage),
                            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le",
                            "-metadata:s:v:0", "timecode=01:00:00:00", "-metadata:s:v:0", "reel_name=A001",
                            str(clip)]), check=True)  # fmt: skip
    source = ToolInput(path=clip, kind="video", filename=clip.name, sha256="0" * 64)
    DailiesTool().run([source], {"height": 360}, quiet, context())  # warm-up: fonts, the encoder list
    rows = []
    for fmt in FORMATS:
        started = time.perf_counter()
        DailiesTool().run([source], {"format": fmt, "height": 720}, quiet, context())
        seconds = time.perf_counter() - started
        what = "720p review copy only" if fmt == "h264" else f"{fmt} (1080p) + 720p review copy"
        rows.append((f"dailies: {what}, whole tool", f"1920 x 1080, {seconds_of_footage} s at 25 fps",
                     f"{seconds:.2f} s", f"{seconds / seconds_of_footage:.2f} s per second of footage "
                     f"({25 * seconds_of_footage / seconds:.1f} fps)"))  # fmt: skip
    return rows


def cv2_read_rgb(path: Path):
    import cv2

    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


if __name__ == "__main__":
    main()

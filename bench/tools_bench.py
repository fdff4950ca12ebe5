"""Tool benchmark: script breakdown in seconds per page of script, upscaling in seconds per megapixel of input.

    DJANGO_DEBUG=1 .venv/bin/python bench/tools_bench.py [--repeat 3] [--feature-copies 40]

The tools are called directly (`Tool.run` with a progress callback that does nothing), in this process, on the
inputs their tests use (tests/beta/test_tool_script_breakdown.py and tests/beta/test_tool_upscale.py), so the numbers
are the tools' own work without the queue, the storage or the provenance signing around it:

  a. script breakdown of the test script (2 6/8 pages), and of a feature-length script made of --feature-copies
     copies of it one after the other: the parse and breakdown alone (`build_breakdown`), and the whole tool (JSON,
     three CSV sheets, the HTML stripboard and its PDF through WeasyPrint). Pages are the breakdown's own eighths / 8.
  b. upscaling (Real-ESRGAN x2, ncnn on the CPU, the package's `realesr-animevideov3-x2`) of the test pictures
     (96 x 64, 300 x 270) and of a 1280 x 720 and a 1920 x 1080 plate made the same way; the whole tool, PNG writing
     and the before/after detail pair included. The network is loaded once before timing (a worker keeps it loaded).

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
            return ToolContext(work_dir=work, studio_name="Bench Pictures", job_label="bench",
                               settings=ToolSettings(), render_template=render_template)

        # a. Script breakdown.
        feature = "\n".join([SCRIPT] + [SCRIPT.split("FADE IN:", 1)[1]] * (args.feature_copies - 1))
        for label, text in (("test script", SCRIPT), (f"test script x {args.feature_copies}", feature)):
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
        _network()
        for width, height in ((96, 64), (300, 270), (1280, 720), (1920, 1080)):
            path = folder / f"plate_{width}x{height}.png"
            cv2.imwrite(str(path), make_picture(width, height))
            source = ToolInput(path=path, kind="image", filename=path.name, sha256="0" * 64)
            seconds = median_seconds(lambda source=source: UpscaleTool().run([source], {}, quiet, context()),
                                     1 if width * height > 500_000 else args.repeat)  # fmt: skip
            megapixels = width * height / 1e6
            rows.append(("upscale: Real-ESRGAN x2, whole tool", f"{width} x {height} ({megapixels:.3f} MP)",
                         f"{seconds:.2f} s", f"{seconds / megapixels:.1f} s/MP"))  # fmt: skip

    print(f"Machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f} at the end.")  # fmt: skip
    print()
    print("| measurement | input | time (median) | rate |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

"""One frame of each temp-comp mode, for issue notes and reviews: the tool run in-process on a generated plate.

    .venv/bin/python scripts/temp_comp_samples.py [--out docs/screenshots/issue-19] [--frame 25] [--copies 12]

Makes a green-screen plate (three textured figures, walking, with soft edges, screen spill and sensor noise) and a
background (a sky over textured ground), runs `temp-comp` in comp mode and in crowd mode with N copies, and saves
frame `--frame` of each ProRes comp as `temp-comp-frame-comp.png` and `temp-comp-frame-crowd.png`, with the plate's
own frame as `temp-comp-frame-plate.png`. Not part of the test suite; needs no database.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from beta.tools.base import ToolContext, ToolInput  # noqa: E402
from beta.tools.temp_comp import TempCompTool  # noqa: E402
from media.ffmpeg import command  # noqa: E402

W, H, RATE, SECONDS = 960, 540, 25, 2
SCREEN = np.array([0.08, 0.78, 0.16], np.float32)


def texture(rng: np.random.Generator, sigma: float, shape: tuple[int, int] = (H, W)) -> np.ndarray:
    t = cv2.GaussianBlur(rng.random(shape, dtype=np.float32), (0, 0), sigma)
    return (t - t.min()) / (t.max() - t.min())


def figure_alpha(x: float, ground: int, height: int) -> np.ndarray:
    """A person-like silhouette (head, body, two legs), soft-edged, standing at `x` on the ground line."""
    mask = np.zeros((H, W), np.float32)
    head = height // 8
    cx = round(x)
    cv2.circle(mask, (cx, ground - height + head), head, 1.0, -1, cv2.LINE_AA)
    cv2.ellipse(mask, (cx, ground - height * 5 // 8), (height // 6, height // 4), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    for side in (-1, 1):
        foot = (cx + side * height // 10, ground)
        cv2.line(mask, (cx + side * height // 16, ground - height * 3 // 8), foot, 1.0, height // 14, cv2.LINE_AA)
    return np.clip(cv2.GaussianBlur(mask, (0, 0), 1.2), 0, 1)


def plate_frames() -> list[np.ndarray]:
    rng = np.random.default_rng(19)
    cloth = np.stack([0.55 + 0.3 * texture(rng, 2), 0.3 + 0.15 * texture(rng, 3), 0.22 + 0.15 * texture(rng, 2)], 2)
    frames = []
    for n in range(RATE * SECONDS):
        alpha = np.zeros((H, W), np.float32)
        for start, ground, height in ((300, 470, 300), (420, 455, 270), (540, 480, 320)):
            alpha = np.maximum(alpha, figure_alpha(start + 1.6 * n, ground, height))
        spill = alpha * (1 - cv2.GaussianBlur(alpha, (0, 0), 5))
        fg = cloth.copy()
        fg[..., 1] += 0.2 * np.clip(spill * 3, 0, 1)
        a = alpha[..., None]
        picture = a * fg + (1 - a) * SCREEN * (0.92 + 0.08 * texture(rng, 40)[..., None])
        picture += rng.normal(0, 0.01, picture.shape).astype(np.float32)
        frames.append((np.clip(picture, 0, 1) * 255).astype(np.uint8))
    return frames


def background_still() -> np.ndarray:
    rng = np.random.default_rng(7)
    y = np.linspace(0, 1, H, dtype=np.float32)[:, None, None]
    sky = (1 - y) * np.array([0.45, 0.6, 0.85], np.float32) + y * np.array([0.85, 0.8, 0.7], np.float32)
    ground = np.stack([0.55 + 0.2 * texture(rng, 6), 0.45 + 0.15 * texture(rng, 6), 0.3 + 0.1 * texture(rng, 6)], 2)
    horizon = (np.arange(H) > H * 0.55).astype(np.float32)[:, None, None]
    hills = 0.08 * texture(rng, 30)[..., None]
    return (np.clip(sky * (1 - horizon) + (ground - hills) * horizon, 0, 1) * 255).astype(np.uint8)


def encode_plate(frames: list[np.ndarray], path: Path) -> None:
    process = subprocess.Popen(  # noqa: S603 (our own arguments)
        command(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", str(RATE), "-i", "pipe:0",
                 "-c:v", "libx264", "-preset", "fast", "-crf", "12", "-pix_fmt", "yuv444p",
                 "-metadata", "timecode=01:00:00:00", str(path)]),
        stdin=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin is not None  # noqa: S101
    for frame in frames:
        process.stdin.write(frame.tobytes())
    process.stdin.close()
    if process.wait() != 0:
        raise SystemExit("ffmpeg could not encode the plate")


def save_frame(video: Path, n: int, png: Path) -> None:
    subprocess.run(command(["-loglevel", "error", "-i", str(video), "-vf", f"select=eq(n\\,{n})",  # noqa: S603
                            "-fps_mode", "passthrough", "-frames:v", "1", "-update", "1", "-pix_fmt", "rgb24",
                            "-y", str(png)]), check=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "issue-19"))
    parser.add_argument("--frame", type=int, default=25)
    parser.add_argument("--copies", type=int, default=12)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="temp-comp-samples-") as folder:
        work = Path(folder)
        plate, bg = work / "plate.mp4", work / "background.png"
        encode_plate(plate_frames(), plate)
        cv2.imwrite(str(bg), cv2.cvtColor(background_still(), cv2.COLOR_RGB2BGR))
        save_frame(plate, args.frame, out / "temp-comp-frame-plate.png")
        inputs = [ToolInput(path=plate, kind="video", filename="plate.mp4", sha256=""),
                  ToolInput(path=bg, kind="image", filename="background.png", sha256="")]  # fmt: skip
        for mode, params in (("comp", {"mode": "comp"}), ("crowd", {"mode": "crowd", "crowd_copies": args.copies})):
            run_dir = work / mode
            run_dir.mkdir()
            context = ToolContext(work_dir=run_dir, studio_name="Samples", settings={})
            result = TempCompTool().run(inputs, params, lambda *a, **k: None, context)
            comp_output = next(o for o in result.outputs if o.role == "comp")
            save_frame(comp_output.path, args.frame, out / f"temp-comp-frame-{mode}.png")
            print(f"{mode}: {result.summary['frames']} frames -> {out / f'temp-comp-frame-{mode}.png'}")


if __name__ == "__main__":
    main()

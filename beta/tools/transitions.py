"""Gradual transitions (dissolves, fades to and from black) found by twin comparison over tiny frame signatures.

A cut changes the picture in one frame; a dissolve spreads the same change over many frames, each of which differs
from the one before by only a little, so a cut detector's threshold misses it. Twin comparison (Zhang, Kankanhalli
and Smoliar, 1993) keeps two thresholds: a low one on the frame-to-frame difference opens a candidate, and the change
accumulated between the frame before the candidate and its last frame must reach a cut's size. The low threshold
follows the clip (a multiple of the median difference nearby), so steady motion does not open candidates.

A candidate is kept only if it looks like a mix: its frames lie near the straight line between the outgoing and the
incoming picture (a pan or a flash does not), mixing progresses in order, and no single frame carries most of the
change (that is a cut, left to the cut detector). An end that is black makes it a fade.

Each frame is reduced to a 16x9 colour signature (432 bytes), so a two-hour clip at 24 fps holds about 75 MB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SIGNATURE_SIZE = (16, 9)
#: The smallest per-frame change (0-255 scale, mean over the signature) that can open a candidate.
MIN_STEP = 1.0
#: The low threshold is this multiple of the median frame-to-frame change around the frame (steady motion), taken
#: over this many seconds on each side.
STEP_OVER_MEDIAN = 2.0
MEDIAN_WINDOW_SECONDS = 4.0
#: The whole transition must change the picture at least this much (a cut's size, 0-255 mean absolute difference).
MIN_TOTAL_CHANGE = 12.0
#: How far (share of the total change) frames inside a dissolve may lie from the straight mix of its two ends.
MAX_MIX_RESIDUAL = 0.3
#: No single frame of a dissolve carries more than this share of the total change.
MAX_STEP_SHARE = 0.5
#: The share of a mix at each end left out of the straight-line fit of its progress (motion blurs the ends).
FIT_FROM = 0.15
MIN_FRAMES = 4
MAX_SECONDS = 4.0
#: A frame is black when its mean is below this and nearly all of it below BLACK_PEAK (0-255).
BLACK_MEAN, BLACK_PEAK = 20.0, 40.0

DISSOLVE, FADE_OUT, FADE_IN = "dissolve", "fade-out", "fade-in"

Signatures = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Transition:
    """A gradual transition: `start_frame` is its first frame (the outgoing picture still whole), `length` frames."""

    kind: str  # DISSOLVE, FADE_OUT (to black) or FADE_IN (from black)
    start_frame: int
    length: int

    @property
    def end_frame(self) -> int:
        """The first frame after the transition: the incoming picture (or black) whole."""
        return self.start_frame + self.length


def signature(frame_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A frame's signature: its 16x9 area average in colour, flattened."""
    import cv2  # OpenCV comes with PySceneDetect, which decodes the frames; imported when used

    small = cv2.resize(frame_bgr, SIGNATURE_SIZE, interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.uint8).reshape(-1)


def is_black(signature_row: npt.NDArray[np.float32]) -> bool:
    return bool(signature_row.mean() < BLACK_MEAN and np.percentile(signature_row, 95) < BLACK_PEAK)


def find_transitions(signatures: Signatures, fps: float) -> list[Transition]:
    """Dissolves and fades in a clip, from each frame's signature (rows, in order), by start frame."""
    count = len(signatures)
    if count < MIN_FRAMES + 2:
        return []
    steps = np.zeros(count, dtype=np.float32)
    steps[1:] = np.abs(np.diff(signatures, axis=0)).mean(axis=1)
    low = np.maximum(MIN_STEP, STEP_OVER_MEDIAN * _local_median(steps, max(3, round(MEDIAN_WINDOW_SECONDS * fps))))
    found: list[Transition] = []
    for first, last in _runs(steps > low):
        for a, b in _split_at_black(signatures, first, last):
            transition = _as_transition(signatures, steps, a, b, fps)
            if transition is not None:
                found.append(transition)
    return found


def _local_median(steps: Signatures, window: int) -> Signatures:
    """The usual frame-to-frame change around each frame: the smaller of the medians just before and just after it
    (so that a dissolve out of, or into, a still shot is held to the still shot's level), computed every eighth of a
    window and held in between. The median on either side stays low while a transition fills less than half of it."""
    stride = max(1, window // 8)
    out = np.empty_like(steps)
    for centre in range(0, len(steps), stride):
        before, after = steps[max(1, centre - window) : centre], steps[centre + 1 : centre + window + 1]
        sides = [float(np.median(side)) for side in (before, after) if len(side)]
        out[centre : centre + stride] = min(sides) if sides else 0.0
    return out


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, last) indexes of each run of True, joining runs split by a single False (a noisy frame)."""
    runs: list[tuple[int, int]] = []
    indexes = np.flatnonzero(mask)
    for index in indexes.tolist():
        if runs and index - runs[-1][1] <= 2:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def _split_at_black(signatures: Signatures, first: int, last: int) -> list[tuple[int, int]]:
    """A dip to black with no black hold is one run of change: split it at its darkest frame, when that is black and
    inside the run, into the fade out and the fade in."""
    darkest = first + int(np.argmin(signatures[first : last + 1].mean(axis=1)))
    if first < darkest < last and is_black(signatures[darkest]):
        return [(first, darkest), (darkest + 1, last)]
    return [(first, last)]


def _tighten(signatures: Signatures, start: int, last: int) -> tuple[int, int]:
    """Trim a candidate to where the mixing happens: a run of change can begin or end in a moving shot whose motion
    passed the low threshold. Each frame's progress is its projection on the line from the candidate's first frame to
    its last. A mix progresses steadily, so a straight line fitted to the frames between 15 % and 85 % of the way
    (motion at the ends does not reach them) meets 0 at the mix's first frame and 1 at its last."""
    direction = signatures[last] - signatures[start]
    norm = float(direction @ direction)
    if norm <= 0:
        return start, last
    progress = (signatures[start : last + 1] - signatures[start]) @ direction / norm
    middle = int(np.argmax(progress >= 0.5))
    lo = middle
    while lo > 0 and progress[lo - 1] >= FIT_FROM:
        lo -= 1
    hi = middle
    while hi < len(progress) - 1 and progress[hi + 1] <= 1 - FIT_FROM:
        hi += 1
    if hi - lo < 2:
        return start, last
    slope, intercept = np.polyfit(np.arange(lo, hi + 1), progress[lo : hi + 1], 1)
    if slope <= 0:
        return start, last
    new_start = start + round(float(-intercept / slope))
    new_last = start + round(float((1 - intercept) / slope))
    return max(start, new_start), min(last, new_last)


def _as_transition(signatures: Signatures, steps: Signatures, first: int, last: int, fps: float) -> Transition | None:
    """The transition from frame first-1 (outgoing, whole) to frame `last` (incoming, whole), if it is a mix."""
    start, last = _tighten(signatures, first - 1, last)
    first = start + 1
    length = last - start
    if length < MIN_FRAMES or length > MAX_SECONDS * fps or start < 0:
        return None
    before, after = signatures[start], signatures[last]
    total = float(np.abs(after - before).mean())
    if total < MIN_TOTAL_CHANGE or float(steps[first : last + 1].max()) > MAX_STEP_SHARE * total:
        return None
    if not _is_mix(signatures, start, last, total):
        return None
    black_before, black_after = is_black(before), is_black(after)
    if black_before and black_after:
        return None
    kind = FADE_IN if black_before else FADE_OUT if black_after else DISSOLVE
    return Transition(kind, start, length)


def _is_mix(signatures: Signatures, start: int, last: int, total: float) -> bool:
    """Whether the frames at a quarter, half and three quarters lie near the straight mix of the two ends, in order."""
    before, after = signatures[start], signatures[last]
    direction = after - before
    norm = float(direction @ direction)
    progress = []
    for share in (0.25, 0.5, 0.75):
        frame = signatures[start + round(share * (last - start))]
        alpha = float((frame - before) @ direction) / norm
        residual = float(np.abs(frame - (before + alpha * direction)).mean())
        if residual > MAX_MIX_RESIDUAL * total:
            return False
        progress.append(alpha)
    return 0.0 < progress[0] < progress[1] < progress[2] < 1.0

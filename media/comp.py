"""Keying and compositing for temp comps: green/blue-screen plates over a background, one frame at a time.

Frames are float32 RGB arrays (height, width, 3) in 0..1; mattes are float32 (height, width) in 0..1. Everything is
vectorised with numpy and OpenCV (no Python loop over pixels), so a 1080p frame takes tens of milliseconds.

The keyer is a colour-difference keyer: for screen channel S, `alpha = 1 - clamp((S - max(other two)) * gain - offset)`,
with the difference normalised by the screen's own difference (measured on the plate's border), so `gain` 1 and
`offset` 0 map the screen to 0 and anything not screen-coloured to 1. The foreground is taken premultiplied
(`plate - (1 - alpha) * screen colour`), which is exact where the matte is, then despilled, and the background added
under it: `comp = fg + (1 - alpha) * background`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

#: Channel index of each screen colour in an RGB frame.
SCREEN_CHANNELS = {"green": 1, "blue": 2}
#: Share of the frame's width and height read as its border when looking for the screen colour.
BORDER = 0.05
#: A border pixel counts as screen when its screen channel exceeds the other two by this much...
SCREEN_MARGIN = 0.25
#: ...and the screen is found when at least this share of the border is screen.
SCREEN_SHARE = 0.35


# The screen ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """The screen a plate was shot on: its channel, its colour (RGB) and its colour difference S - max(others)."""

    name: str
    colour: np.ndarray
    difference: float

    @property
    def channel(self) -> int:
        return SCREEN_CHANNELS[self.name]


def border_pixels(frame: np.ndarray) -> np.ndarray:
    """The pixels of the frame's border (BORDER of each side), as an (n, 3) array."""
    height, width = frame.shape[:2]
    by, bx = max(1, round(height * BORDER)), max(1, round(width * BORDER))
    parts = [frame[:by], frame[-by:], frame[by:-by, :bx], frame[by:-by, -bx:]]
    return np.concatenate([part.reshape(-1, 3) for part in parts])


def _difference(pixels: np.ndarray, channel: int) -> np.ndarray:
    others = [c for c in range(3) if c != channel]
    return pixels[..., channel] - np.maximum(pixels[..., others[0]], pixels[..., others[1]])


def detect_screen(frame: np.ndarray, choice: str = "auto") -> Screen | None:
    """The screen colour, found on the frame's border (or `choice`, "green" or "blue"); None when there is none."""
    pixels = border_pixels(frame)
    best: Screen | None = None
    best_share = 0.0
    names = list(SCREEN_CHANNELS) if choice == "auto" else [choice]
    for name in names:
        difference = _difference(pixels, SCREEN_CHANNELS[name])
        on_screen = difference > SCREEN_MARGIN
        share = float(on_screen.mean())
        if share < (SCREEN_SHARE if choice == "auto" else 0.05) or share <= best_share:
            continue
        colour = np.median(pixels[on_screen], axis=0).astype(np.float32)
        best = Screen(name=name, colour=colour, difference=float(np.median(difference[on_screen])))
        best_share = share
    return best


# The matte -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeySettings:
    gain: float = 1.1
    offset: float = 0.05
    choke: int = 0  # pixels: more than 0 erodes the matte, less than 0 grows it
    softness: float = 0.0  # Gaussian blur of the matte's edge (sigma, pixels)


def key(frame: np.ndarray, screen: Screen, settings: KeySettings) -> np.ndarray:
    """The colour-difference matte of a frame (1 = foreground), choked or grown, then softened."""
    difference = _difference(frame, screen.channel) / max(screen.difference, 1e-3)
    alpha = 1.0 - np.clip(difference * settings.gain - settings.offset, 0.0, 1.0)
    return refine_matte(alpha.astype(np.float32), settings)


def refine_matte(alpha: np.ndarray, settings: KeySettings) -> np.ndarray:
    """Choke (erode) or grow (dilate) the matte by `choke` pixels, then blur its edge by `softness`."""
    if settings.choke:
        size = 2 * abs(settings.choke) + 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        alpha = cv2.erode(alpha, kernel) if settings.choke > 0 else cv2.dilate(alpha, kernel)
    if settings.softness > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), settings.softness)
    return alpha


def garbage_mask(polygon: list[list[float]], width: int, height: int) -> np.ndarray:
    """1 inside the polygon (normalised x, y corners), 0 outside: what the matte is limited to."""
    mask = np.zeros((height, width), dtype=np.uint8)
    points = np.array([[round(x * (width - 1)), round(y * (height - 1))] for x, y in polygon], dtype=np.int32)
    cv2.fillPoly(mask, [points], 1)
    return mask.astype(np.float32)


# The foreground ------------------------------------------------------------------------------------------------------


def premultiplied_foreground(frame: np.ndarray, alpha: np.ndarray, screen: Screen | None) -> np.ndarray:
    """The foreground times its matte: the screen's share taken out (exact where the matte is), else plate * alpha."""
    a = alpha[..., None]
    if screen is None:
        return frame * a
    return np.clip(frame - (1.0 - a) * screen.colour, 0.0, a)


def despill(fg: np.ndarray, screen: Screen, *, method: str = "average", strength: float = 1.0) -> np.ndarray:
    """Limit the screen channel to the average (or the max) of the other two, by `strength` (0..1)."""
    if strength <= 0:
        return fg
    channel = screen.channel
    others = [c for c in range(3) if c != channel]
    if method == "max":
        limit = np.maximum(fg[..., others[0]], fg[..., others[1]])
    else:
        limit = (fg[..., others[0]] + fg[..., others[1]]) * 0.5
    spill = np.maximum(fg[..., channel] - limit, 0.0)
    out = fg.copy()
    out[..., channel] -= spill * strength
    return out


# Colour match --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabStats:
    mean: np.ndarray
    std: np.ndarray


def to_lab(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(frame, dtype=np.float32), cv2.COLOR_RGB2Lab)


def lab_stats(frame: np.ndarray, mask: np.ndarray | None = None) -> LabStats:
    """Mean and standard deviation of L, a and b over the frame (or where `mask` > 0.9: the solid foreground, not its
    edge, where the screen shows through)."""
    lab = to_lab(frame).reshape(-1, 3)
    if mask is not None:
        chosen = lab[mask.reshape(-1) > 0.9]
        lab = chosen if len(chosen) > 16 else lab
    return LabStats(mean=lab.mean(axis=0), std=np.maximum(lab.std(axis=0), 1e-3))


def colour_match(background: np.ndarray, source: LabStats, target: LabStats, strength: float) -> np.ndarray:
    """Reinhard transfer in Lab: move the background's (source) mean and spread to the plate's (target)."""
    if strength <= 0:
        return background
    lab = to_lab(background)
    matched = (lab - source.mean) / source.std * target.std + target.mean
    lab = lab + (matched - lab) * min(strength, 1.0)
    return np.clip(cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB), 0.0, 1.0)


def mean_delta_e(first: np.ndarray, second: np.ndarray) -> float:
    """CIE76 ΔE between the mean Lab colours of two sets of pixels (each (n, 3) RGB or a frame)."""
    a = to_lab(first.reshape(-1, 1, 3)).reshape(-1, 3).mean(axis=0)
    b = to_lab(second.reshape(-1, 1, 3)).reshape(-1, 3).mean(axis=0)
    return float(np.linalg.norm(a - b))


# Grain ---------------------------------------------------------------------------------------------------------------

GRAIN_SIGMA = 1.5
#: A flat region: where the low-passed picture's gradient is in this lowest share of the frame.
FLAT_SHARE = 0.3


def _residual_gain(sigma: float) -> float:
    """Std of the high-pass residual of unit white noise (noise minus its Gaussian blur), for the blur's sigma."""
    radius = math.ceil(3 * sigma)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k1 = np.exp(-(x**2) / (2 * sigma**2))
    k1 /= k1.sum()
    k2 = np.outer(k1, k1)
    centre = k2[radius, radius]
    return math.sqrt(1 - 2 * centre + float((k2**2).sum()))


def measure_grain(frame: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The grain's standard deviation per channel: the high-pass residual's std on flat regions, scaled to the std
    of the white noise that would leave that residual."""
    low = cv2.GaussianBlur(frame, (0, 0), GRAIN_SIGMA)
    residual = frame - low
    luma = cv2.GaussianBlur(low.mean(axis=2), (0, 0), 2.0)
    gradient = np.hypot(cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1))
    if mask is not None:
        gradient = np.where(mask > 0.5, gradient, np.inf)
    finite = gradient[np.isfinite(gradient)]
    if finite.size == 0:
        return np.zeros(3, dtype=np.float32)
    flat = gradient <= np.quantile(finite, FLAT_SHARE)
    # Keep away from the frame's edge, where the blur reflects.
    margin = math.ceil(3 * GRAIN_SIGMA)
    flat[:margin], flat[-margin:], flat[:, :margin], flat[:, -margin:] = False, False, False, False
    picked = residual[flat]
    if picked.size == 0:
        return np.zeros(3, dtype=np.float32)
    return (picked.std(axis=0) / _residual_gain(GRAIN_SIGMA)).astype(np.float32)


def add_grain(frame: np.ndarray, std: np.ndarray, *, seed: int, frame_index: int) -> np.ndarray:
    """Gaussian grain of `std` per channel, different each frame (seeded by `seed` and the frame's index)."""
    if not np.any(std > 0):
        return frame
    rng = np.random.default_rng([seed, frame_index])
    noise = rng.standard_normal(frame.shape, dtype=np.float32) * std.astype(np.float32)
    return np.clip(frame + noise, 0.0, 1.0)


# Compositing ---------------------------------------------------------------------------------------------------------


def blur(frame: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(frame, (0, 0), sigma) if sigma > 0 else frame


def light_wrap(fg: np.ndarray, alpha: np.ndarray, background: np.ndarray, *, width: float, strength: float
               ) -> np.ndarray:  # fmt: skip
    """Bleed the blurred background onto the foreground's inner edge (`width` pixels, `strength` 0..1)."""
    if strength <= 0 or width <= 0:
        return fg
    edge = alpha * (1.0 - cv2.GaussianBlur(alpha, (0, 0), width))
    wrap = (np.clip(edge * strength, 0.0, 1.0))[..., None]
    return fg * (1.0 - wrap) + cv2.GaussianBlur(background, (0, 0), width) * alpha[..., None] * wrap


def over(fg: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """A premultiplied foreground over a background."""
    return np.clip(fg + (1.0 - alpha[..., None]) * background, 0.0, 1.0)


@dataclass(frozen=True)
class CompSettings:
    key: KeySettings = field(default_factory=KeySettings)
    despill: str = "average"  # average or max
    despill_strength: float = 1.0
    colour_match: float = 0.0
    grain: bool = False
    background_blur: float = 0.0
    light_wrap_width: float = 0.0
    light_wrap_strength: float = 0.0
    seed: int = 0


@dataclass
class Comper:
    """Composites one plate frame at a time; the background's colour match and the plate's grain are measured on
    the first frame and kept, so they do not flicker."""

    settings: CompSettings
    screen: Screen | None
    garbage: np.ndarray | None = None
    _match: tuple[LabStats, LabStats] | None = None
    _grain: np.ndarray | None = None

    def matte(self, plate: np.ndarray, matte: np.ndarray | None = None) -> np.ndarray:
        if matte is not None:
            alpha = refine_matte(matte.astype(np.float32), self.settings.key)
        elif self.screen is not None:
            alpha = key(plate, self.screen, self.settings.key)
        else:
            raise ValueError("no screen and no matte")
        if self.garbage is not None:
            alpha = alpha * self.garbage
        return np.clip(alpha, 0.0, 1.0)

    def foreground(self, plate: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        fg = premultiplied_foreground(plate, alpha, self.screen)
        if self.screen is not None:
            fg = despill(fg, self.screen, method=self.settings.despill, strength=self.settings.despill_strength)
        return fg

    def background(self, plate: np.ndarray, alpha: np.ndarray, background: np.ndarray, index: int) -> np.ndarray:
        s = self.settings
        background = blur(background, s.background_blur)
        if s.colour_match > 0:
            if self._match is None:
                self._match = (lab_stats(background), lab_stats(plate, alpha))
            background = colour_match(background, *self._match, s.colour_match)
        if s.grain:
            if self._grain is None:
                self._grain = measure_grain(plate)
            background = add_grain(background, self._grain, seed=s.seed, frame_index=index)
        return background

    def comp(self, plate: np.ndarray, background: np.ndarray, index: int, matte: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """(composite, matte) of one frame."""
        alpha = self.matte(plate, matte)
        fg = self.foreground(plate, alpha)
        bg = self.background(plate, alpha, background, index)
        fg = light_wrap(fg, alpha, bg, width=self.settings.light_wrap_width,
                        strength=self.settings.light_wrap_strength)  # fmt: skip
        return over(fg, alpha, bg), alpha


# Crowd ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrowdCopy:
    x: float  # the copy's foot point, normalised across the frame
    depth: float  # 0 nearest, 1 farthest
    scale: float
    offset: int  # frames behind the plate
    flip: bool
    tint: tuple[float, float, float]


@dataclass(frozen=True)
class CrowdSettings:
    copies: int = 12
    near_scale: float = 0.5
    far_scale: float = 0.25
    near_y: float = 0.95  # the ground line's height (normalised, from the top) for the nearest row
    far_y: float = 0.6  # ...and for the farthest
    max_offset: int = 24  # frames
    flip: bool = True
    colour_variation: float = 0.06
    seed: int = 0


def crowd_layout(settings: CrowdSettings) -> list[CrowdCopy]:
    """Where each copy stands, back to front: rows by depth (farther = smaller and higher), slots across each row
    (alternate rows shifted half a slot), jittered, each with a time offset, a flip and a slight tint; seeded."""
    rng = np.random.default_rng(settings.seed)
    count = settings.copies
    per_row = max(1, math.ceil(math.sqrt(2 * count)))
    rows = max(1, math.ceil(count / per_row))
    copies = []
    for index in range(count):
        row, slot = divmod(index, per_row)
        in_row = min(per_row, count - row * per_row)
        depth = 1.0 - row / (rows - 1) if rows > 1 else 0.0
        shift = 0.25 if row % 2 else -0.25
        x = (slot + 0.5 + shift * (in_row > 1) + rng.uniform(-0.12, 0.12)) / in_row
        scale = settings.near_scale + (settings.far_scale - settings.near_scale) * depth
        tint = tuple(float(v) for v in 1.0 + rng.uniform(-1, 1, 3) * settings.colour_variation)
        copies.append(CrowdCopy(
            x=float(min(max(x, 0.02), 0.98)), depth=depth, scale=scale,
            offset=int(rng.integers(0, settings.max_offset + 1)) if settings.max_offset else 0,
            flip=bool(settings.flip and rng.random() < 0.5), tint=(tint[0], tint[1], tint[2]),
        ))  # fmt: skip
    return sorted(copies, key=lambda c: -c.depth)


def _bbox(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(alpha.max(axis=1) > 0.01)
    cols = np.flatnonzero(alpha.max(axis=0) > 0.01)
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def place(canvas: np.ndarray, fg: np.ndarray, alpha: np.ndarray, copy: CrowdCopy, settings: CrowdSettings) -> None:
    """Lay one premultiplied, keyed foreground over `canvas` (in place): scaled, feet on its ground line."""
    box = _bbox(alpha)
    if box is None:
        return
    y0, y1, x0, x1 = box
    fg_crop, a_crop = fg[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
    height, width = canvas.shape[:2]
    new_w, new_h = max(1, round((x1 - x0) * copy.scale)), max(1, round((y1 - y0) * copy.scale))
    fg_crop = cv2.resize(fg_crop, (new_w, new_h), interpolation=cv2.INTER_AREA)
    a_crop = cv2.resize(a_crop, (new_w, new_h), interpolation=cv2.INTER_AREA)
    if copy.flip:
        fg_crop, a_crop = fg_crop[:, ::-1], a_crop[:, ::-1]
    fg_crop = fg_crop * np.asarray(copy.tint, dtype=np.float32)
    ground = settings.near_y + (settings.far_y - settings.near_y) * copy.depth
    top, left = round(ground * height) - new_h, round(copy.x * width - new_w / 2)
    cy0, cx0 = max(top, 0), max(left, 0)
    cy1, cx1 = min(top + new_h, height), min(left + new_w, width)
    if cy1 <= cy0 or cx1 <= cx0:
        return
    src_fg = fg_crop[cy0 - top : cy1 - top, cx0 - left : cx1 - left]
    src_a = a_crop[cy0 - top : cy1 - top, cx0 - left : cx1 - left][..., None]
    region = canvas[cy0:cy1, cx0:cx1]
    canvas[cy0:cy1, cx0:cx1] = np.clip(src_fg + (1.0 - src_a) * region, 0.0, 1.0)


def crowd(background: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]], layout: list[CrowdCopy],
          settings: CrowdSettings) -> np.ndarray:  # fmt: skip
    """The copies over the background, back to front; `layers[i]` is copy i's (premultiplied fg, alpha)."""
    canvas = background.copy()
    for (fg, alpha), copy in zip(layers, layout, strict=True):
        place(canvas, fg, alpha, copy, settings)
    return canvas


# Measures (for tests and the job's summary) ------------------------------------------------------------------------


def psnr(first: np.ndarray, second: np.ndarray) -> float:
    mse = float(np.mean((first.astype(np.float64) - second.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)


def iou(first: np.ndarray, second: np.ndarray, threshold: float = 0.5) -> float:
    a, b = first > threshold, second > threshold
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0

"""Keying and compositing for temp comps: green/blue-screen plates over a background, one frame at a time.

Frames are uint8 RGB arrays (height, width, 3), as ffmpeg's rawvideo pipes carry them; mattes are uint8 (height,
width), 255 = foreground. The per-frame work is OpenCV's saturating uint8 arithmetic (`cv2.multiply` with
`scale=1/255`, `cv2.add`, `cv2.subtract`, lookup tables), so clipping comes free and no pass touches float32 copies
of a whole frame: a 1080p comp frame takes a few tens of milliseconds. Measurements made once per clip (the screen,
the colour statistics, the grain) read the frame as float.

The keyer is a colour-difference keyer: for screen channel S, `alpha = 1 - clamp((S - max(other two)) * gain - offset)`,
with the difference normalised by the screen's own difference (measured on the plate's border), so `gain` 1 and
`offset` 0 map the screen to 0 and anything not screen-coloured to 1; it is applied as two 256-entry lookup tables.
The foreground is taken premultiplied (`plate - (1 - alpha) * screen colour`), which is exact where the matte is,
then despilled, and the background added under it: `comp = fg + (1 - alpha) * background`.
"""

from __future__ import annotations

import math
import statistics
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


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """A float frame or matte in 0..1 as uint8 (rounded); a uint8 one as it is."""
    if frame.dtype == np.uint8:
        return frame
    out: np.ndarray = (np.clip(frame, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return out


def to_unit(frame: np.ndarray) -> np.ndarray:
    """A uint8 frame or matte as float32 in 0..1; a float one as float32."""
    if frame.dtype == np.uint8:
        return frame.astype(np.float32) * np.float32(1 / 255)
    return frame.astype(np.float32, copy=False)


def _rgb(matte: np.ndarray) -> np.ndarray:
    """A one-channel matte repeated into three channels, for OpenCV's per-element arithmetic with a frame."""
    return cv2.cvtColor(matte, cv2.COLOR_GRAY2RGB)


# The screen ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """The screen a plate was shot on: its channel, its colour (RGB, 0..1) and its colour difference S - max(others)."""

    name: str
    colour: np.ndarray
    difference: float

    @property
    def channel(self) -> int:
        return SCREEN_CHANNELS[self.name]

    @property
    def others(self) -> tuple[int, int]:
        first, second = (c for c in range(3) if c != self.channel)
        return first, second


def border_pixels(frame: np.ndarray) -> np.ndarray:
    """The pixels of the frame's border (BORDER of each side), as an (n, 3) float array in 0..1."""
    height, width = frame.shape[:2]
    by, bx = max(1, round(height * BORDER)), max(1, round(width * BORDER))
    parts = [frame[:by], frame[-by:], frame[by:-by, :bx], frame[by:-by, -bx:]]
    return to_unit(np.concatenate([part.reshape(-1, 3) for part in parts]))


def _difference(pixels: np.ndarray, channel: int) -> np.ndarray:
    others = [c for c in range(3) if c != channel]
    difference: np.ndarray = pixels[..., channel] - np.maximum(pixels[..., others[0]], pixels[..., others[1]])
    return difference


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


def key_tables(screen: Screen, settings: KeySettings) -> tuple[np.ndarray, np.ndarray]:
    """The keyer as two lookup tables: alpha for a screen difference of +n levels, and what a difference of -n adds
    to alpha(0). The keyer falls as the difference grows, so `alpha(d) = pos[max(d, 0)] + neg[max(-d, 0)]`."""
    levels = np.arange(256, dtype=np.float64) / 255.0

    def alpha(difference: np.ndarray) -> np.ndarray:
        scaled = difference / max(screen.difference, 1e-3) * settings.gain - settings.offset
        return np.round((1.0 - np.clip(scaled, 0.0, 1.0)) * 255.0)

    positive, negative = alpha(levels), alpha(-levels)
    return positive.astype(np.uint8), (negative - positive[0]).astype(np.uint8)


def key(frame: np.ndarray, screen: Screen, settings: KeySettings,
        tables: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:  # fmt: skip
    """The colour-difference matte of a uint8 frame (255 = foreground), choked or grown, then softened."""
    positive, negative = tables or key_tables(screen, settings)
    first, second = screen.others
    s = cv2.extractChannel(frame, screen.channel)
    most = cv2.max(cv2.extractChannel(frame, first), cv2.extractChannel(frame, second))
    alpha = cv2.add(cv2.LUT(cv2.subtract(s, most), positive), cv2.LUT(cv2.subtract(most, s), negative))
    return refine_matte(alpha, settings)


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
    """255 inside the polygon (normalised x, y corners), 0 outside: what the matte is limited to."""
    mask = np.zeros((height, width), dtype=np.uint8)
    points = np.array([[round(x * (width - 1)), round(y * (height - 1))] for x, y in polygon], dtype=np.int32)
    cv2.fillPoly(mask, [points], 255)
    return mask


# The foreground ------------------------------------------------------------------------------------------------------


def premultiplied_foreground(frame: np.ndarray, alpha: np.ndarray, screen: Screen | None) -> np.ndarray:
    """The foreground times its matte: the screen's share taken out (exact where the matte is), else plate * alpha."""
    alpha3 = _rgb(alpha)
    if screen is None:
        return cv2.multiply(frame, alpha3, scale=1 / 255)
    colour = (*(float(c) for c in screen.colour), 0.0)
    screen_share = cv2.multiply(cv2.bitwise_not(alpha3), colour)  # type: ignore[call-overload]  # a Scalar
    return cv2.min(cv2.subtract(frame, screen_share), alpha3)


def despill(fg: np.ndarray, screen: Screen, *, method: str = "average", strength: float = 1.0) -> np.ndarray:
    """Limit the screen channel to the average (or the max) of the other two, by `strength` (0..1)."""
    if strength <= 0:
        return fg
    first, second = (cv2.extractChannel(fg, c) for c in screen.others)
    limit = cv2.max(first, second) if method == "max" else cv2.addWeighted(first, 0.5, second, 0.5, 0)
    s = cv2.extractChannel(fg, screen.channel)
    spill = cv2.subtract(s, limit)
    if strength < 1:
        spill = cv2.convertScaleAbs(spill, alpha=float(strength))
    out = fg.copy()
    cv2.insertChannel(cv2.subtract(s, spill), out, screen.channel)
    return out


# Colour match --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabStats:
    mean: np.ndarray
    std: np.ndarray


def to_lab(frame: np.ndarray) -> np.ndarray:
    """CIE Lab (L 0..100) of a frame, read as float."""
    return cv2.cvtColor(np.ascontiguousarray(to_unit(frame)), cv2.COLOR_RGB2Lab)


def lab_stats(frame: np.ndarray, mask: np.ndarray | None = None) -> LabStats:
    """Mean and standard deviation of L, a and b over the frame (or where `mask` > 90%: the solid foreground, not
    its edge, where the screen shows through)."""
    lab = to_lab(frame).reshape(-1, 3)
    if mask is not None:
        chosen = lab[to_unit(mask).reshape(-1) > 0.9]
        lab = chosen if len(chosen) > 16 else lab
    return LabStats(mean=lab.mean(axis=0), std=np.maximum(lab.std(axis=0), 1e-3))


#: OpenCV's 8-bit Lab: L scaled to 0..255, a and b offset by 128.
_LAB8_SCALE = np.array([100 / 255, 1.0, 1.0])
_LAB8_OFFSET = np.array([0.0, -128.0, -128.0])


def colour_table(source: LabStats, target: LabStats, strength: float) -> np.ndarray:
    """Reinhard's transfer is a straight line per Lab channel, so on 8-bit Lab it is a 256-entry table per channel."""
    lab = np.arange(256, dtype=np.float64)[:, None] * _LAB8_SCALE + _LAB8_OFFSET
    matched = (lab - source.mean) / source.std * target.std + target.mean
    lab = lab + (matched - lab) * min(strength, 1.0)
    encoded = (lab - _LAB8_OFFSET) / _LAB8_SCALE
    table: np.ndarray = np.clip(np.round(encoded), 0, 255).astype(np.uint8).reshape(1, 256, 3)
    return table


def apply_colour_table(background: np.ndarray, table: np.ndarray) -> np.ndarray:
    """A frame through a `colour_table`: to 8-bit Lab, the table, and back."""
    lab = cv2.LUT(cv2.cvtColor(to_uint8(background), cv2.COLOR_RGB2Lab), table)
    return cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)


def colour_match(background: np.ndarray, source: LabStats, target: LabStats, strength: float) -> np.ndarray:
    """Reinhard transfer in Lab: move the background's (source) mean and spread to the plate's (target)."""
    if strength <= 0:
        return background
    return apply_colour_table(background, colour_table(source, target, strength))


def mean_delta_e(first: np.ndarray, second: np.ndarray) -> float:
    """CIE76 ΔE between the mean Lab colours of two sets of pixels (each (n, 3) RGB or a frame)."""
    a = to_lab(first.reshape(-1, 1, 3)).reshape(-1, 3).mean(axis=0)
    b = to_lab(second.reshape(-1, 1, 3)).reshape(-1, 3).mean(axis=0)
    return float(np.linalg.norm(a - b))


# Grain ---------------------------------------------------------------------------------------------------------------

GRAIN_SIGMA = 1.5
#: A flat region: where the low-passed picture's gradient is in this lowest share of the frame.
FLAT_SHARE = 0.3
#: Grain fields made once per clip; each frame takes one of them at a seeded shift, so grain moves every frame.
GRAIN_FIELDS = 4
GRAIN_SHIFT = 64


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
    """The grain's standard deviation per channel (0..1 units): the high-pass residual's std on flat regions, scaled
    to the std of the white noise that would leave that residual."""
    frame = to_unit(frame)
    low = cv2.GaussianBlur(frame, (0, 0), GRAIN_SIGMA)
    residual = frame - low
    luma = cv2.GaussianBlur(low.mean(axis=2), (0, 0), 2.0)
    gradient = np.hypot(cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1))
    if mask is not None:
        gradient = np.where(to_unit(mask) > 0.5, gradient, np.inf)
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
    std: np.ndarray = (picked.std(axis=0) / _residual_gain(GRAIN_SIGMA)).astype(np.float32)
    return std


def _gaussian_levels() -> np.ndarray:
    """256 levels of a unit Gaussian, one per equal-probability slice (the slice's middle quantile), rescaled to a
    standard deviation of exactly 1: a uniform random byte through this table is Gaussian grain."""
    normal = statistics.NormalDist()
    levels = np.array([normal.inv_cdf((k + 0.5) / 256) for k in range(256)], dtype=np.float64)
    levels /= levels.std()
    return levels


class GrainPool:
    """Gaussian grain of `std` per channel for frames of one shape: GRAIN_FIELDS fields made once from the seed, each
    frame a seeded pick and shift of one (so the grain changes every frame and the same seed repeats it exactly).
    A field is kept as its positive and negative parts in uint8, so adding it is two saturating passes. The fields are
    uniform random bytes mapped through per-channel tables of Gaussian levels (`cv2.LUT`): a tenth of the time of
    drawing normal floats, which matters for a short clip (half a second at 1080p otherwise)."""

    def __init__(self, std: np.ndarray, shape: tuple[int, ...], seed: int):
        self.shape = shape
        self.seed = seed
        height, width = shape[:2]
        padded = (height + GRAIN_SHIFT, width + GRAIN_SHIFT, 3)
        scale = np.asarray(std, dtype=np.float64) * 255.0
        noise = np.rint(_gaussian_levels()[:, None] * scale[None, :])  # (256, 3): the grain per byte per channel
        positive = np.clip(noise, 0, 255).astype(np.uint8).reshape(1, 256, 3)
        negative = np.clip(-noise, 0, 255).astype(np.uint8).reshape(1, 256, 3)
        self.fields: list[tuple[np.ndarray, np.ndarray]] = []
        for index in range(GRAIN_FIELDS):
            uniform = np.random.default_rng([seed, index, 7]).integers(0, 256, padded, dtype=np.uint8)
            self.fields.append((cv2.LUT(uniform, positive), cv2.LUT(uniform, negative)))

    def add(self, frame: np.ndarray, frame_index: int) -> np.ndarray:
        height, width = self.shape[:2]
        rng = np.random.default_rng([self.seed, frame_index])
        which, dy, dx = (int(v) for v in rng.integers(0, [GRAIN_FIELDS, GRAIN_SHIFT + 1, GRAIN_SHIFT + 1]))
        positive, negative = (part[dy : dy + height, dx : dx + width] for part in self.fields[which])
        return cv2.subtract(cv2.add(frame, positive), negative)


def add_grain(frame: np.ndarray, std: np.ndarray, *, seed: int, frame_index: int) -> np.ndarray:
    """Gaussian grain of `std` per channel, different each frame (seeded by `seed` and the frame's index)."""
    if not np.any(std > 0):
        return frame
    return GrainPool(std, frame.shape, seed).add(frame, frame_index)


# Compositing ---------------------------------------------------------------------------------------------------------


def blur(frame: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur; wide ones at half resolution (the same look, a quarter of the work)."""
    if sigma <= 0:
        return frame
    if sigma < 4 or min(frame.shape[:2]) < 64:
        return cv2.GaussianBlur(frame, (0, 0), sigma)
    height, width = frame.shape[:2]
    small = cv2.resize(frame, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / 2)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def light_wrap(fg: np.ndarray, alpha: np.ndarray, background: np.ndarray, *, width: float, strength: float,
               blurred: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Bleed the blurred background onto the foreground's inner edge (`width` pixels, `strength` 0..1); `blurred` is
    the background already blurred by `width`, when the caller keeps it."""
    if strength <= 0 or width <= 0:
        return fg
    edge_out = cv2.bitwise_not(blur(alpha, width))
    wrap = cv2.multiply(alpha, edge_out, scale=min(strength, 1.0) / 255)  # alpha * (1 - blur) * strength
    bled = cv2.multiply(alpha, wrap, scale=1 / 255)
    light = blur(background, width) if blurred is None else blurred
    return cv2.add(cv2.multiply(fg, _rgb(cv2.bitwise_not(wrap)), scale=1 / 255),
                   cv2.multiply(light, _rgb(bled), scale=1 / 255))  # fmt: skip


def over(fg: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """A premultiplied foreground over a background."""
    return cv2.add(fg, cv2.multiply(background, _rgb(cv2.bitwise_not(alpha)), scale=1 / 255))


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
class _Prepared:
    """A background blurred and colour-matched, and blurred again for the light wrap: made once for a still."""

    source: np.ndarray
    picture: np.ndarray
    wrap_light: np.ndarray | None


@dataclass
class Comper:
    """Composites one uint8 plate frame at a time. What stays the same through a clip is worked out once: the key's
    tables, the colour transfer (measured on the first frame, so it does not flicker) as a Lab lookup table, the
    grain fields, and, when the same background array comes back each frame (a still), the prepared background."""

    settings: CompSettings
    screen: Screen | None
    garbage: np.ndarray | None = None
    _tables: tuple[np.ndarray, np.ndarray] | None = None
    _colour: np.ndarray | None = None
    _grain: GrainPool | None = None
    _prepared: _Prepared | None = None

    def matte(self, plate: np.ndarray, matte: np.ndarray | None = None) -> np.ndarray:
        if matte is not None:
            alpha = refine_matte(to_uint8(matte), self.settings.key)
        elif self.screen is not None:
            if self._tables is None:
                self._tables = key_tables(self.screen, self.settings.key)
            alpha = key(plate, self.screen, self.settings.key, self._tables)
        else:
            raise ValueError("no screen and no matte")
        if self.garbage is not None:
            alpha = cv2.bitwise_and(alpha, self.garbage)
        return alpha

    def foreground(self, plate: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        fg = premultiplied_foreground(plate, alpha, self.screen)
        if self.screen is not None:
            fg = despill(fg, self.screen, method=self.settings.despill, strength=self.settings.despill_strength)
        return fg

    def prepared(self, plate: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> _Prepared:
        """The background blurred and colour-matched (and its light-wrap blur); kept while the same array returns."""
        if self._prepared is not None and self._prepared.source is background:
            return self._prepared
        s = self.settings
        picture = blur(background, s.background_blur)
        if s.colour_match > 0:
            if self._colour is None:
                self._colour = colour_table(lab_stats(picture), lab_stats(plate, alpha), s.colour_match)
            picture = apply_colour_table(picture, self._colour)
        wrap = s.light_wrap_strength > 0 and s.light_wrap_width > 0
        self._prepared = _Prepared(background, picture, blur(picture, s.light_wrap_width) if wrap else None)
        return self._prepared

    def background(self, plate: np.ndarray, alpha: np.ndarray, background: np.ndarray, index: int) -> np.ndarray:
        picture = self.prepared(plate, alpha, background).picture
        if not self.settings.grain:
            return picture
        if self._grain is None:
            self._grain = GrainPool(measure_grain(plate), picture.shape, self.settings.seed)
        return self._grain.add(picture, index)

    def comp(self, plate: np.ndarray, background: np.ndarray, index: int, matte: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """(composite, matte) of one uint8 frame."""
        alpha = self.matte(plate, matte)
        fg = self.foreground(plate, alpha)
        bg = self.background(plate, alpha, background, index)
        s = self.settings
        fg = light_wrap(fg, alpha, bg, width=s.light_wrap_width, strength=s.light_wrap_strength,
                        blurred=self.prepared(plate, alpha, background).wrap_light)  # fmt: skip
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
    rows = np.flatnonzero(alpha.max(axis=1) > 2)
    cols = np.flatnonzero(alpha.max(axis=0) > 2)
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def place(canvas: np.ndarray, fg: np.ndarray, alpha: np.ndarray, copy: CrowdCopy, settings: CrowdSettings) -> None:
    """Lay one premultiplied, keyed foreground over `canvas` (in place): scaled, feet on its ground line. A grey
    `fg` and `canvas` (a matte laid over a matte) are not tinted."""
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
        fg_crop, a_crop = cv2.flip(fg_crop, 1), cv2.flip(a_crop, 1)
    if fg_crop.ndim == 3:
        fg_crop = cv2.multiply(fg_crop, (*copy.tint, 0.0))  # type: ignore[call-overload]  # a Scalar
    ground = settings.near_y + (settings.far_y - settings.near_y) * copy.depth
    top, left = round(ground * height) - new_h, round(copy.x * width - new_w / 2)
    cy0, cx0 = max(top, 0), max(left, 0)
    cy1, cx1 = min(top + new_h, height), min(left + new_w, width)
    if cy1 <= cy0 or cx1 <= cx0:
        return
    src_fg = np.ascontiguousarray(fg_crop[cy0 - top : cy1 - top, cx0 - left : cx1 - left])
    src_a = np.ascontiguousarray(a_crop[cy0 - top : cy1 - top, cx0 - left : cx1 - left])
    region = canvas[cy0:cy1, cx0:cx1]
    canvas[cy0:cy1, cx0:cx1] = over(src_fg, src_a, region) if canvas.ndim == 3 else cv2.add(
        src_fg, cv2.multiply(region, cv2.bitwise_not(src_a), scale=1 / 255))  # fmt: skip


def crowd(background: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]], layout: list[CrowdCopy],
          settings: CrowdSettings) -> np.ndarray:  # fmt: skip
    """The copies over the background, back to front; `layers[i]` is copy i's (premultiplied fg, alpha)."""
    canvas = background.copy()
    for (fg, alpha), copy in zip(layers, layout, strict=True):
        place(canvas, fg, alpha, copy, settings)
    return canvas


# Measures (for tests and the job's summary) ------------------------------------------------------------------------


def psnr(first: np.ndarray, second: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB, with frames read as 0..1 (uint8 ones divided by 255)."""
    mse = float(np.mean((to_unit(first).astype(np.float64) - to_unit(second).astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)


def iou(first: np.ndarray, second: np.ndarray, threshold: float = 0.5) -> float:
    a, b = to_unit(first) > threshold, to_unit(second) > threshold
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0

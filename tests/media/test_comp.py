"""media.comp against ground truth made here: a textured foreground with a known matte moving over a screen.

The truth is computed in float; the frames go to media.comp as uint8 RGB, as the tool's ffmpeg pipes deliver them."""

import cv2
import numpy as np
import pytest

from media import comp

H, W = 270, 480
SCREENS = {"green": np.array([0.05, 0.8, 0.1], np.float32), "blue": np.array([0.05, 0.12, 0.8], np.float32)}


def texture(seed: int, sigma: float = 3.0) -> np.ndarray:
    """Smooth noise in 0..1, (H, W)."""
    noise = np.random.default_rng(seed).random((H, W), dtype=np.float32)
    t = cv2.GaussianBlur(noise, (0, 0), sigma)
    return (t - t.min()) / (t.max() - t.min())


def true_alpha(frame: int) -> np.ndarray:
    """A soft-edged ellipse that moves right and down a little each frame."""
    mask = np.zeros((H, W), np.float32)
    cv2.ellipse(mask, (160 + 12 * frame, 130 + 3 * frame), (70, 90), 15, 0, 360, 1.0, -1, cv2.LINE_AA)
    return np.clip(cv2.GaussianBlur(mask, (0, 0), 1.5), 0, 1)


def foreground(screen: str) -> np.ndarray:
    """Warm texture whose screen channel stays below the average of the other two (a despill leaves it alone)."""
    r = 0.5 + 0.3 * texture(1)
    other = 0.35 + 0.2 * texture(2)
    low = 0.33 + 0.09 * texture(3)
    return np.stack([r, low, other] if screen == "green" else [r, other, low], axis=2)


def background() -> np.ndarray:
    """A warm grey texture: neither its green nor its blue exceeds the mean of the other two."""
    return np.stack([0.4 + 0.4 * texture(7, 8), 0.35 + 0.35 * texture(8, 5), 0.3 + 0.3 * texture(9, 12)], axis=2)


def cool_background() -> np.ndarray:
    return np.stack([0.2 + 0.5 * texture(7, 8), 0.3 + 0.4 * texture(8, 5), 0.5 + 0.4 * texture(9, 12)], axis=2)


def make_plate(screen: str, frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(plate, true alpha, clean foreground, true composite); the plate's foreground carries screen spill at its
    edge, which the true composite does not."""
    alpha = true_alpha(frame)
    fg = foreground(screen)
    channel = comp.SCREEN_CHANNELS[screen]
    edge = alpha * (1 - cv2.GaussianBlur(alpha, (0, 0), 6))
    spilled = fg.copy()
    spilled[..., channel] += 0.25 * np.clip(edge * 3, 0, 1)
    a = alpha[..., None]
    plate = a * spilled + (1 - a) * SCREENS[screen]
    plate = plate + np.random.default_rng(frame).normal(0, 0.004, plate.shape).astype(np.float32)
    truth = a * fg + (1 - a) * background()
    return comp.to_uint8(plate), alpha, fg, truth.astype(np.float32)


def edge_band(alpha: np.ndarray) -> np.ndarray:
    return (alpha > 0.05) & (alpha < 0.95)


def edge_cast(image: np.ndarray, alpha: np.ndarray, channel: int) -> float:
    """Mean of S - (other two)/2 on the matte's edge band, S the screen channel."""
    others = [c for c in range(3) if c != channel]
    image = comp.to_unit(image)
    return float((image[..., channel] - image[..., others].mean(axis=2))[edge_band(alpha)].mean())


@pytest.mark.parametrize("screen", ["green", "blue"])
def test_keyed_comp_matches_the_true_composite(screen):
    for frame in (0, 4):
        plate, alpha, _, truth = make_plate(screen, frame)
        found = comp.detect_screen(plate)
        assert found is not None
        assert found.name == screen
        comper = comp.Comper(settings=comp.CompSettings(), screen=found)
        out, matte = comper.comp(plate, comp.to_uint8(background()), frame)
        assert out.dtype == np.uint8
        assert matte.dtype == np.uint8
        assert comp.iou(matte, alpha) >= 0.97
        assert comp.psnr(out, truth) >= 32
        # No screen-coloured cast on the edge: the screen channel does not exceed the mean of the other two.
        assert edge_cast(out, alpha, found.channel) <= 2 / 255


@pytest.mark.parametrize("screen", ["green", "blue"])
def test_without_despill_the_edge_keeps_the_spill(screen):
    # The despill check above can fail: the same plate with despill off leaves more screen colour on the edge.
    plate, alpha, _, _ = make_plate(screen, 0)
    found = comp.detect_screen(plate)
    casts = []
    for strength in (0.0, 1.0):
        comper = comp.Comper(settings=comp.CompSettings(despill_strength=strength), screen=found)
        casts.append(edge_cast(comper.comp(plate, comp.to_uint8(background()), 0)[0], alpha, found.channel))
    assert casts[0] - casts[1] > 2 / 255


def test_no_screen_is_found_on_an_ordinary_picture():
    assert comp.detect_screen(comp.to_uint8(background())) is None
    assert comp.detect_screen(comp.to_uint8(cool_background())) is None
    grey = np.full((H, W, 3), 128, np.uint8)
    assert comp.detect_screen(grey) is None


def test_choke_shrinks_and_grow_widens_the_matte():
    plate, _, _, _ = make_plate("green", 0)
    screen = comp.detect_screen(plate)
    plain = comp.key(plate, screen, comp.KeySettings()).sum()
    assert comp.key(plate, screen, comp.KeySettings(choke=3)).sum() < plain
    assert comp.key(plate, screen, comp.KeySettings(choke=-3)).sum() > plain


def test_garbage_matte_removes_what_is_outside_the_polygon():
    plate, _, _, _ = make_plate("green", 0)
    comper = comp.Comper(
        settings=comp.CompSettings(),
        screen=comp.detect_screen(plate),
        garbage=comp.garbage_mask([[0, 0], [0.3, 0], [0.3, 1], [0, 1]], W, H),
    )
    matte = comper.matte(plate)
    assert matte[:, int(W * 0.31) :].max() == 0
    assert matte[:, : int(W * 0.29)].max() > 0.9 * 255


def test_colour_match_brings_the_background_to_the_plates_colour():
    plate, alpha, _, _ = make_plate("green", 0)
    bg = comp.to_uint8(cool_background())
    fg_pixels = plate[alpha > 0.99]
    before = comp.mean_delta_e(bg, fg_pixels)
    assert before > 15
    matched = comp.colour_match(bg, comp.lab_stats(bg), comp.lab_stats(plate, alpha), 1.0)
    assert comp.mean_delta_e(matched, fg_pixels) < 2
    half = comp.colour_match(bg, comp.lab_stats(bg), comp.lab_stats(plate, alpha), 0.5)
    assert 2 < comp.mean_delta_e(half, fg_pixels) < before


def test_added_grain_matches_the_plates_grain_and_changes_each_frame():
    sigma = np.array([0.02, 0.015, 0.025], np.float32)
    plate, _, _, _ = make_plate("green", 0)
    grainy = comp.to_uint8(comp.to_unit(plate) + np.random.default_rng(5).normal(0, 1, plate.shape) * sigma)
    measured = comp.measure_grain(grainy)
    assert np.allclose(measured, sigma, rtol=0.15)
    smooth = comp.to_uint8(np.stack([0.3 + 0.4 * texture(11, 20)] * 3, axis=2))
    frame0 = comp.add_grain(smooth, measured, seed=1, frame_index=0)
    frame1 = comp.add_grain(smooth, measured, seed=1, frame_index=1)
    assert np.allclose(comp.measure_grain(frame0), measured, rtol=0.15)
    assert not np.array_equal(frame0, frame1)
    assert np.array_equal(frame0, comp.add_grain(smooth, measured, seed=1, frame_index=0))


def test_light_wrap_brightens_a_dark_edge_over_a_bright_background():
    alpha = true_alpha(0)
    fg = np.zeros((H, W, 3), np.uint8)
    bright = np.full((H, W, 3), 255, np.uint8)
    wrapped = comp.to_unit(comp.light_wrap(fg, comp.to_uint8(alpha), bright, width=6, strength=0.8))
    band = edge_band(alpha)
    assert wrapped[band].mean() > 0.05
    assert wrapped[alpha > 0.999].mean() < wrapped[band].mean()


def crowd_frame(seed: int, copies: int = 12) -> np.ndarray:
    alpha = np.zeros((H, W), np.float32)
    cv2.circle(alpha, (240, 135), 40, 1.0, -1, cv2.LINE_AA)
    fg = comp.to_uint8(alpha[..., None] * np.array([0.85, 0.1, 0.1], np.float32))
    settings = comp.CrowdSettings(copies=copies, seed=seed)
    layout = comp.crowd_layout(settings)
    flat = np.full((H, W, 3), 128, np.uint8)
    return comp.crowd(flat, [(fg, comp.to_uint8(alpha))] * copies, layout, settings)


def test_crowd_places_every_copy_and_is_seeded():
    out = crowd_frame(seed=3)
    unit = comp.to_unit(out)
    red = ((unit[..., 0] - unit[..., 1]) > 0.3).astype(np.uint8)
    count, _ = cv2.connectedComponents(red)
    assert count - 1 == 12
    assert np.array_equal(crowd_frame(seed=3).tobytes(), out.tobytes())
    assert not np.array_equal(crowd_frame(seed=4), out)


def test_crowd_puts_farther_copies_smaller_and_higher_and_layers_back_to_front():
    layout = comp.crowd_layout(comp.CrowdSettings(copies=12, seed=1))
    depths = [c.depth for c in layout]
    assert depths == sorted(depths, reverse=True)
    far, near = layout[0], layout[-1]
    assert far.scale < near.scale


def test_the_comp_of_a_still_background_is_prepared_once_and_matches_a_fresh_comp():
    # The Comper keeps the colour-matched background of a still; a fresh Comper per frame must give the same frames.
    settings = comp.CompSettings(colour_match=0.7, grain=True, light_wrap_width=4, light_wrap_strength=0.5, seed=2)
    bg = comp.to_uint8(cool_background())
    plate0, plate1 = make_plate("green", 0)[0], make_plate("green", 1)[0]
    kept = comp.Comper(settings=settings, screen=comp.detect_screen(plate0))
    first, second = kept.comp(plate0, bg, 0)[0], kept.comp(plate1, bg, 1)[0]
    fresh = comp.Comper(settings=settings, screen=comp.detect_screen(plate0))
    fresh.comp(plate0, bg.copy(), 0)
    assert np.array_equal(first, comp.Comper(settings=settings, screen=kept.screen).comp(plate0, bg, 0)[0])
    assert np.array_equal(second, fresh.comp(plate1, bg.copy(), 1)[0])
    assert not np.array_equal(first, second)

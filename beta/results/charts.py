"""Server-rendered SVG charts: the same markup serves the dashboard and the PDF report.

Every chart has a `<title>` and a `<desc>` (what it shows, in words, with its numbers), labelled axes, and the
sample size next to each bar or point. Values are printed as text as well as drawn, so nothing is carried by
colour alone; lines also differ by marker and dash. Text uses `currentColor`, so the page's theme (dark or light)
and the report's white paper both read well.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from beta.results import numbers

WIDTH = 640
#: Latin from Source Sans Pro; studio names, labels and quotes in Chinese, Japanese or Korean from Noto Sans CJK
FONT = ("'Source Sans Pro', 'Noto Sans CJK JP', 'Noto Sans CJK SC', 'Noto Sans CJK KR', system-ui, -apple-system, "
        "'Segoe UI', Roboto, Arial, sans-serif")
BAR_FILL = "#4e9af1"
NEGATIVE_FILL = "#d9534f"
RATING_COLOURS = ["#d9534f", "#f0883e", "#c9a227", "#7fbf5a", "#2e9d5b"]
SERIES_STYLES = [("#4e9af1", "circle", ""), ("#2e9d5b", "square", "6 4"), ("#f0883e", "diamond", "2 3")]
INK_ON_FILL = "#111111"
#: Below this many answers or runs a rate or a mean is drawn hatched and labelled "small sample" (1 of 1 is 100%).
SMALL_SAMPLE = 5
SMALL_SAMPLE_TEXT = "small sample"
LINE_H = 14
#: Characters of a label per line in the label column (about 200 px at 12 px): labels wrap, they are never cut.
LABEL_CHARS = 30


@dataclass
class Bar:
    label: str
    value: float | None
    n: int
    text: str = ""
    link: str = ""


@dataclass
class StackedRow:
    label: str
    counts: Sequence[int]
    link: str = ""


@dataclass
class Series:
    name: str
    values: Sequence[float | None]


@dataclass
class Interval:
    label: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    text: str = ""
    link: str = ""


def _e(value) -> str:
    return str(escape(str(value)))


def wrap(text: str, width: int = LABEL_CHARS) -> list[str]:
    """A label in lines of at most `width` characters, broken between words (a word longer than a line is split):
    every character is kept, so two labels that differ only at their end still read differently."""
    if "\n" in str(text):  # an explicit break: each part wraps on its own
        return [line for part in str(text).split("\n") for line in wrap(part, width)]
    lines: list[str] = []
    current = ""
    for word in str(text).split():
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current or not lines:
        lines.append(current)
    return lines


def _text_lines(x: float, y: float, lines: Sequence[str], attrs: str = "") -> str:
    """Lines of text centred on y (one `<text>` with a `<tspan>` per line)."""
    first = y - (len(lines) - 1) * LINE_H / 2
    spans = "".join(f'<tspan x="{x:.1f}" y="{first + i * LINE_H:.1f}">{_e(line)}</tspan>'
                    for i, line in enumerate(lines))
    return f"<text{attrs}>{spans}</text>"


def _title_height(period: str) -> int:
    return 44 if period else 26


def _open(chart_id: str, title: str, desc: str, height: float, period: str = "") -> list[str]:
    """The chart's frame: its accessible name and description, its title drawn above the plot, and the period the
    numbers cover on the line under it."""
    title_h = _title_height(period)
    total = height + title_h
    full_title = f"{title}, {period}" if period else title
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 {WIDTH} {total:.0f}" '
        f'width="{WIDTH}" height="{total:.0f}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="{FONT}" font-size="12" fill="currentColor">',
        f'<title id="{chart_id}-title">{_e(full_title)}</title>',
        f'<desc id="{chart_id}-desc">{_e(desc)}</desc>',
        f'<defs><pattern id="{chart_id}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff" fill-opacity="0.55"/>'
        f'<rect width="3" height="6" fill="{BAR_FILL}"/></pattern></defs>',
        f'<text x="0" y="16" font-size="14" font-weight="700" aria-hidden="true">{_e(title)}</text>',
    ]
    if period:
        parts.append(f'<text class="chart-period" x="0" y="33" font-size="11.5" fill-opacity="0.85" '
                     f'aria-hidden="true">{_e(period)}</text>')
    parts.append(f'<g transform="translate(0 {title_h})">')
    return parts


def _close(parts: list[str]) -> SafeString:
    parts.append("</g></svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text in it went through _e()


def _link(parts: list[str], link: str, inner: str) -> None:
    if link:
        parts.append(f'<a href="{_e(link)}">{inner}</a>')
    else:
        parts.append(inner)


def _empty(chart_id: str, title: str, message: str, period: str = "") -> SafeString:
    parts = _open(chart_id, title, message, 48, period)
    parts.append(f'<text x="{WIDTH / 2}" y="28" text-anchor="middle" fill-opacity="0.75">{_e(message)}</text>')
    return _close(parts)


def _nice_step(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above value."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * 10**exponent >= value - 1e-9:
            return step * 10**exponent
    return 10.0 ** (exponent + 1)  # pragma: no cover


def scale(value: float, *, whole: bool = False) -> tuple[float, list[float]]:
    """An axis from 0 that holds `value`: at most 4 round steps (whole numbers for counts). (maximum, ticks)."""
    step = _nice_step(value / 4)
    if whole:
        step = max(1.0, math.ceil(step))
    count = max(1, math.ceil(value / step - 1e-9))
    return step * count, [step * i for i in range(count + 1)]


def signed_scale(low: float, high: float, *, whole: bool = False) -> tuple[float, float, list[float]]:
    """An axis through 0 that holds low (≤ 0) and high (≥ 0), in round steps on both sides: (min, max, ticks)."""
    if low >= 0:
        top, ticks = scale(high, whole=whole)
        return 0.0, top, ticks
    step = _nice_step((high - low) / 4)
    if whole:
        step = max(1.0, math.ceil(step))
    below = max(1, math.ceil(-low / step - 1e-9))
    above = math.ceil(high / step - 1e-9) if high > 0 else 0
    return -step * below, step * above, [step * i for i in range(-below, above + 1)]


def _ticks(maximum: float, count: int = 4) -> list[float]:
    return [maximum * i / count for i in range(count + 1)]


def _fmt_number(value: float) -> str:
    return numbers.axis(value)


def _is_small(n: int) -> bool:
    return n < SMALL_SAMPLE


def _row_layout(labels: Sequence[list[str]], base: int, extra: Sequence[int] = ()) -> tuple[list[float], list[float]]:
    """Each row's top and height: tall enough for its wrapped label (and any extra lines of its value)."""
    tops: list[float] = []
    heights: list[float] = []
    y = 0.0
    for i, lines in enumerate(labels):
        more = extra[i] if i < len(extra) else 1
        h = float(max(base, LINE_H * max(len(lines), more) + 12))
        tops.append(y)
        heights.append(h)
        y += h
    return tops, heights


def bar_chart(
    *,
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    axis_label: str,
    maximum: float | None = None,
    tick_format: Callable[[float], str] = _fmt_number,
    empty: str = "No data yet",
    whole: bool = False,
    period: str = "",
    mark_small: bool = True,
) -> SafeString:
    """Horizontal bars, one per label, with the value and the sample size in a column on the right.

    Signed values diverge from a zero line (a negative bar is drawn to its left); a rate or mean from fewer than
    SMALL_SAMPLE runs or answers (`mark_small`) is hatched and labelled "small sample"."""
    drawn = [b for b in bars if b.value is not None]
    values = [b.value for b in drawn if b.value is not None]  # the same bars, typed as numbers
    if not drawn:
        return _empty(chart_id, title, empty, period)
    left, value_col, top = 200, 180, 12
    values = [b.value for b in drawn if b.value is not None]
    low_value, top_value, ticks = _bar_scale(values, maximum=maximum, whole=whole)
    plot = WIDTH - left - value_col

    def sx(v: float) -> float:
        return left + plot * (min(max(v, low_value), top_value) - low_value) / (top_value - low_value)

    labels = [wrap(b.label) for b in bars]
    small = [mark_small and b.value is not None and _is_small(b.n) for b in bars]
    tops, heights = _row_layout(labels, 28, [2 if s else 1 for s in small])
    height = top + sum(heights) + 48
    parts = _open(chart_id, title, _bar_description(title, bars, small, tick_format), height, period)
    axis_y = top + sum(heights)
    for tick in ticks:
        parts.extend(_bar_gridline(sx(tick), top, axis_y, tick_format(tick)))
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot}" y2="{axis_y}" stroke="currentColor" '
                 f'stroke-opacity="0.6"/>')
    zero = sx(0)
    parts.append(f'<line class="zero-line" x1="{zero:.1f}" y1="{top - 4}" x2="{zero:.1f}" y2="{axis_y}" '
                 f'stroke="currentColor" stroke-opacity="0.7"/>')
    parts.append(f'<text x="{left + plot / 2:.1f}" y="{axis_y + 34}" text-anchor="middle" font-weight="600">'
                 f"{_e(axis_label)}</text>")
    for i, bar in enumerate(bars):
        middle = top + tops[i] + heights[i] / 2
        inner = _text_lines(left - 8, middle + 4, labels[i], ' text-anchor="end"')
        if bar.value is not None:
            inner += _bar_rect(chart_id, sx(bar.value), zero, middle, bar.value, small[i])
        inner += _bar_value(bar, left + plot + 10, middle, small[i], tick_format)
        _link(parts, bar.link, inner)
    return _close(parts)


def _bar_scale(values: Sequence[float], *, maximum: float | None, whole: bool) -> tuple[float, float, list[float]]:
    """(low, top, ticks) of a bar chart's axis: from 0 to `maximum` when given and nothing is negative, else a
    signed scale around the values (at least up to `maximum`)."""
    low_value = min(0.0, min(values))
    if maximum is not None and low_value >= 0:
        low_value, top_value, ticks = 0.0, maximum, _ticks(maximum)
    else:
        low_value, top_value, ticks = signed_scale(low_value, max(0.0, max(values)), whole=whole)
        if maximum is not None:
            top_value = max(top_value, maximum)
    top_value = top_value if top_value > low_value else low_value + 1
    return low_value, top_value, list(ticks)


def _bar_description(title: str, bars: Sequence[Bar], small: Sequence[bool], tick_format) -> str:
    """The chart in words, for screen readers: each label with its value, n and whether the sample is small."""
    return f"{title}. " + "; ".join(
        f"{b.label.replace(chr(10), ' ')}: {b.text or (tick_format(b.value) if b.value is not None else 'no data')} "
        f"(n = {b.n})"
        + (f", {SMALL_SAMPLE_TEXT}" if s else "")
        for b, s in zip(bars, small, strict=True)
    ) + "."


def _bar_gridline(x: float, top: float, axis_y: float, label: str) -> list[str]:
    return [
        f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{axis_y}" stroke="currentColor" stroke-opacity="0.18"/>',
        f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle" font-size="11">{_e(label)}</text>',
    ]


def _bar_value(bar: Bar, x: float, middle: float, small: bool, tick_format) -> str:
    """The value column of one bar: value and n (and "small sample"), or "no data"."""
    if bar.value is None:
        return f'<text x="{x}" y="{middle + 4:.1f}" fill-opacity="0.75">no data (n = {bar.n:,})</text>'
    value_lines = [f"{bar.text or tick_format(bar.value)}  n = {bar.n:,}"]
    if small:
        value_lines.append(SMALL_SAMPLE_TEXT)
    return _value_text(x, middle, value_lines)


def _bar_rect(chart_id: str, end: float, zero: float, middle: float, value: float, small: bool) -> str:
    """One bar from the zero line to its value: to the right when positive, to the left when negative."""
    x, w = (zero, end - zero) if value >= 0 else (end, zero - end)
    if value and w < 1.5:
        w = 1.5
        x = zero if value > 0 else zero - w
    fill = f"url(#{chart_id}-hatch)" if small else (BAR_FILL if value >= 0 else NEGATIVE_FILL)
    stroke = f' stroke="{BAR_FILL}" stroke-width="1"' if small else ""
    return (f'<rect class="bar{" bar--small" if small else ""}" data-value="{value:g}" x="{x:.1f}" '
            f'y="{middle - 9:.1f}" width="{w:.1f}" height="18" fill="{fill}"{stroke} rx="2"/>')


def _value_text(x: float, middle: float, lines: Sequence[str]) -> str:
    """The value in bold with its n, and "small sample" under it when it applies."""
    first = middle + 4 - (len(lines) - 1) * LINE_H / 2
    value, _, n = lines[0].partition("  ")
    out = (f'<text x="{x:.1f}" y="{first:.1f}" font-weight="600">{_e(value)}'
           f'<tspan font-weight="400" fill-opacity="0.8"> {_e(n)}</tspan></text>')
    for k, line in enumerate(lines[1:], start=1):
        out += (f'<text class="small-sample" x="{x:.1f}" y="{first + k * LINE_H:.1f}" font-size="10.5" '
                f'font-style="italic">{_e(line)}</text>')
    return out


def stacked_bar_chart(
    *,
    chart_id: str,
    title: str,
    rows: Sequence[StackedRow],
    segments: Sequence[str],
    colours: Sequence[str] = RATING_COLOURS,
    axis_label: str = "Share of answers (%)",
    empty: str = "No answers yet",
    period: str = "",
) -> SafeString:
    """One 100% bar per row: how its answers split between the segments (e.g. ratings 1 to 5), with n; rows of
    fewer than SMALL_SAMPLE answers hatched over and labelled "small sample"."""
    rows = [r for r in rows if sum(r.counts)]
    if not rows:
        return _empty(chart_id, title, empty, period)
    left, right, legend_h = 200, 110, 30
    plot = WIDTH - left - right
    labels = [wrap(r.label) for r in rows]
    small = [_is_small(sum(r.counts)) for r in rows]
    tops, heights = _row_layout(labels, 30, [2 if s else 1 for s in small])
    height = legend_h + sum(heights) + 48
    desc_rows = []
    for r, s in zip(rows, small, strict=True):
        total = sum(r.counts)
        split = ", ".join(f"{name}: {c} ({numbers.percent(c / total)})"
                          for name, c in zip(segments, r.counts, strict=True))
        desc_rows.append(f"{r.label} (n = {total}{', ' + SMALL_SAMPLE_TEXT if s else ''}): {split}")
    parts = _open(chart_id, title, f"{title}. " + "; ".join(desc_rows) + ".", height, period)
    x = left
    for name, colour in zip(segments, colours, strict=False):
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="16">{_e(name)}</text>')
        x += 24 + 7 * len(name)
    axis_y = legend_h + sum(heights)
    for tick in _ticks(100):
        tx = left + plot * tick / 100
        parts.append(f'<line x1="{tx:.1f}" y1="{legend_h}" x2="{tx:.1f}" y2="{axis_y}" stroke="currentColor" '
                     f'stroke-opacity="0.18"/><text x="{tx:.1f}" y="{axis_y + 14}" text-anchor="middle" '
                     f'font-size="11">{numbers.axis(tick)}</text>')
    parts.append(f'<text x="{left + plot / 2:.1f}" y="{axis_y + 34}" text-anchor="middle" font-weight="600">'
                 f"{_e(axis_label)}</text>")
    for i, r in enumerate(rows):
        middle = legend_h + tops[i] + heights[i] / 2
        inner = _text_lines(left - 8, middle + 4, labels[i], ' text-anchor="end"') + _segments(
            r.counts, colours, left, plot, middle)
        if small[i]:
            inner += (f'<rect class="bar--small" x="{left}" y="{middle - 10:.1f}" width="{plot}" height="20" '
                      f'fill="url(#{chart_id}-hatch)" fill-opacity="0.6"/>')
        lines = [f"n = {sum(r.counts):,}"] + ([SMALL_SAMPLE_TEXT] if small[i] else [])
        first = middle + 4 - (len(lines) - 1) * LINE_H / 2
        inner += f'<text x="{left + plot + 8}" y="{first:.1f}" fill-opacity="0.85">{_e(lines[0])}</text>'
        if small[i]:
            inner += (f'<text class="small-sample" x="{left + plot + 8}" y="{first + LINE_H:.1f}" font-size="10.5" '
                      f'font-style="italic">{SMALL_SAMPLE_TEXT}</text>')
        _link(parts, r.link, inner)
    return _close(parts)


def _segments(counts: Sequence[int], colours: Sequence[str], left: float, plot: float, middle: float) -> str:
    total = sum(counts)
    out, x = "", float(left)
    for count, colour in zip(counts, colours, strict=False):
        if not count:
            continue
        w = plot * count / total
        out += (f'<rect x="{x:.1f}" y="{middle - 10:.1f}" width="{w:.1f}" height="20" fill="{colour}" '
                f'stroke="#ffffff" stroke-width="0.5"/>')
        if w >= 22:
            out += (f'<text x="{x + w / 2:.1f}" y="{middle + 4:.1f}" text-anchor="middle" fill="{INK_ON_FILL}" '
                    f'font-size="11">{count}</text>')
        x += w
    return out


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if kind == "diamond":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}" '
                f'fill="{colour}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'


def line_chart(
    *,
    chart_id: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    sample_sizes: Sequence[int],
    x_axis_label: str,
    y_axis_label: str,
    maximum: float | None = None,
    tick_format: Callable[[float], str] = _fmt_number,
    empty: str = "No weeks with data yet",
    whole: bool = False,
    period: str = "",
) -> SafeString:
    """Weekly trends: one line per series (each with its own marker and dash), n per week under the axis."""
    values = [v for s in series for v in s.values if v is not None]
    if not x_labels or not values:
        return _empty(chart_id, title, empty, period)
    left, right, top, plot_h, inset = 56, 24, 34, 170, 24
    plot_w = WIDTH - left - right
    if maximum is not None:
        top_value, ticks = maximum, _ticks(maximum)
    else:
        top_value, ticks = scale(max(values), whole=whole)
    height = top + plot_h + 66
    step = (plot_w - 2 * inset) / max(len(x_labels) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + inset + (step * i if len(x_labels) > 1 else plot_w / 2 - inset)
        return x, top + plot_h - plot_h * min(v, top_value) / top_value

    desc = _line_description(title, x_labels, series, sample_sizes, tick_format)
    parts = _open(chart_id, title, desc, height, period)
    parts.extend(_line_legend(series, left))
    for tick in ticks:
        _, y = xy(0, tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="currentColor" '
                     f'stroke-opacity="0.18"/><text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{_e(tick_format(tick))}</text>')
    parts.append(f'<text transform="translate(14 {top + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle" '
                 f'font-weight="600">{_e(y_axis_label)}</text>')
    base = top + plot_h
    parts.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="currentColor" '
                 f'stroke-opacity="0.6"/>')
    every = max(1, len(x_labels) // 8)
    for i, (label, n) in enumerate(zip(x_labels, sample_sizes, strict=True)):
        if i % every == 0 or i == len(x_labels) - 1:
            parts.append(_week_label(xy(i, 0)[0], base, label, n))
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{base + 52}" text-anchor="middle" font-weight="600">'
                 f"{_e(x_axis_label)}</text>")
    for s, style in zip(series, SERIES_STYLES, strict=False):
        parts.extend(_series_line([xy(i, v) for i, v in enumerate(s.values) if v is not None], style))
    return _close(parts)


def _line_description(title: str, x_labels, series, sample_sizes, tick_format) -> str:
    """The chart in words: each series week by week, then the sample size of every week."""
    return f"{title}. " + "; ".join(
        f"{s.name}: " + ", ".join(f"{x_labels[i]} {tick_format(v) if v is not None else 'no data'}"
                                  for i, v in enumerate(s.values))
        for s in series
    ) + ". Sample sizes per week: " + ", ".join(f"{x} n = {n}" for x, n in zip(x_labels, sample_sizes, strict=True))


def _line_legend(series, left: float) -> list[str]:
    """One swatch per series (colour, marker and dash), side by side above the plot."""
    parts, x = [], left
    for s, (colour, marker, dash) in zip(series, SERIES_STYLES, strict=False):
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<line x1="{x}" y1="12" x2="{x + 22}" y2="12" stroke="{colour}" stroke-width="2"{dash_attr}/>'
                     f'{_marker(marker, x + 11, 12, colour)}<text x="{x + 28}" y="16">{_e(s.name)}</text>')
        x += 40 + 7 * len(s.name)
    return parts


def _week_label(x: float, base: float, label: str, n: int) -> str:
    return (f'<text x="{x:.1f}" y="{base + 15}" text-anchor="middle" font-size="11">{_e(label)}</text>'
            f'<text x="{x:.1f}" y="{base + 29}" text-anchor="middle" font-size="11" fill-opacity="0.85">'
            f"n = {n}</text>")


def _series_line(points: list[tuple[float, float]], style) -> list[str]:
    """A series as a polyline through its points (when there are two or more) and a marker on each."""
    colour, marker, dash = style
    parts = []
    if len(points) > 1:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>')
    parts.extend(_marker(marker, x, y, colour) for x, y in points)
    return parts


def interval_chart(
    *,
    chart_id: str,
    title: str,
    items: Sequence[Interval],
    axis_label: str,
    domain: tuple[float, float],
    tick_format: Callable[[float], str] = _fmt_number,
    reference: float | None = None,
    empty: str = "No answers yet",
    period: str = "",
) -> SafeString:
    """A point and its 95% interval per row (NPS, win rates), with the value and n printed beside it; fewer than
    SMALL_SAMPLE answers: a hollow point and "small sample"."""
    drawn = [i for i in items if i.value is not None]
    if not drawn:
        return _empty(chart_id, title, empty, period)
    left, right, top = 220, 130, 12
    plot = WIDTH - left - right
    low_d, high_d = domain
    labels = [wrap(i.label, 32) for i in items]
    small = [i.value is not None and _is_small(i.n) for i in items]
    tops, heights = _row_layout(labels, 30, [2 if s else 1 for s in small])
    height = top + sum(heights) + 48

    def sx(v: float) -> float:
        return left + plot * (min(max(v, low_d), high_d) - low_d) / (high_d - low_d)

    desc = f"{title}, with 95% intervals. " + "; ".join(
        f"{i.label}: {i.text or tick_format(i.value)} "
        f"(95% interval {tick_format(i.low)} to {tick_format(i.high)}, n = {i.n}"
        f"{', ' + SMALL_SAMPLE_TEXT if s else ''})"
        if i.value is not None else f"{i.label}: no answers"
        for i, s in zip(items, small, strict=True)
    ) + "."
    parts = _open(chart_id, title, desc, height, period)
    axis_y = top + sum(heights)
    for k in range(5):
        tick = low_d + (high_d - low_d) * k / 4
        parts.append(f'<line x1="{sx(tick):.1f}" y1="{top - 4}" x2="{sx(tick):.1f}" y2="{axis_y}" '
                     f'stroke="currentColor" stroke-opacity="0.18"/><text x="{sx(tick):.1f}" y="{axis_y + 14}" '
                     f'text-anchor="middle" font-size="11">{_e(tick_format(tick))}</text>')
    if reference is not None:
        parts.append(f'<line x1="{sx(reference):.1f}" y1="{top - 4}" x2="{sx(reference):.1f}" y2="{axis_y}" '
                     f'stroke="currentColor" stroke-opacity="0.6" stroke-dasharray="3 3"/>')
    parts.append(f'<text x="{left + plot / 2:.1f}" y="{axis_y + 34}" text-anchor="middle" font-weight="600">'
                 f"{_e(axis_label)}</text>")
    for k, item in enumerate(items):
        y = top + tops[k] + heights[k] / 2
        inner = _text_lines(left - 8, y + 4, labels[k], ' text-anchor="end"')
        if item.value is not None:
            inner += _interval_marks(sx, item, y, small[k])
            lines = [f"{item.text or tick_format(item.value)}  n = {item.n:,}"]
            inner += _value_text(left + plot + 8, y, [*lines, SMALL_SAMPLE_TEXT] if small[k] else lines)
        else:
            inner += f'<text x="{left + 6}" y="{y + 4:.1f}" fill-opacity="0.75">no answers</text>'
        _link(parts, item.link, inner)
    return _close(parts)


def _interval_marks(sx, item: Interval, y: float, small: bool) -> str:
    lo = sx(item.low if item.low is not None else item.value)
    hi = sx(item.high if item.high is not None else item.value)
    dash = ' stroke-dasharray="3 2"' if small else ""
    point = (f'fill="#ffffff" stroke="{BAR_FILL}" stroke-width="2" class="point--small"' if small
             else f'fill="{BAR_FILL}"')
    ink = f'stroke="{BAR_FILL}" stroke-width="2"'
    return (f'<line x1="{lo:.1f}" y1="{y:.1f}" x2="{hi:.1f}" y2="{y:.1f}" {ink}{dash}/>'
            f'<line x1="{lo:.1f}" y1="{y - 5:.1f}" x2="{lo:.1f}" y2="{y + 5:.1f}" {ink}/>'
            f'<line x1="{hi:.1f}" y1="{y - 5:.1f}" x2="{hi:.1f}" y2="{y + 5:.1f}" {ink}/>'
            f'<circle cx="{sx(item.value):.1f}" cy="{y:.1f}" r="5" {point}/>')


# --- The dashboard's and the report's charts --------------------------------------------------------------------------
def fmt_seconds(seconds: float | None) -> str:
    return numbers.seconds(seconds)


def fmt_percent(value: float | None) -> str:
    return numbers.percent(value)


def _percent_tick(value: float) -> str:
    return numbers.percent_value(value)


def _hours_text(row) -> str:
    if row.hours_per_job is None:
        return numbers.DASH
    return f"{numbers.hours(row.hours_per_job)} per run ({numbers.hours(row.hours_sum)} in all)"


def dashboard_charts(data: dict, prefix: str = "chart", period: str = "") -> dict[str, SafeString]:
    """Every chart of the dashboard, from `selectors.dashboard()`; ids prefixed so two sets can share a page; the
    period the numbers cover under every title."""
    return {
        **_tool_version_charts(data["tools"], prefix, period),
        **_feedback_charts(data, prefix, period),
        **_weekly_charts(data["weeks"], prefix, period),
    }


def _tool_version_charts(tools, prefix: str, period: str) -> dict[str, SafeString]:
    """Success, run time, ratings and hours saved, one row per tool version."""
    return {
        "success": bar_chart(
            chart_id=f"{prefix}-success", title="Success rate per tool version", period=period,
            bars=[Bar(r.label, None if r.success_rate is None else r.success_rate * 100, r.finished,
                      fmt_percent(r.success_rate), r.link) for r in tools],
            axis_label="Succeeded runs among finished runs (%)", maximum=100, tick_format=_percent_tick,
        ),
        "runtime": bar_chart(
            chart_id=f"{prefix}-runtime", title="Run time of succeeded runs, p50 and p95", period=period,
            bars=[b for r in tools for b in (
                Bar(f"{r.label}\np50 (median)", r.p50, r.timed_runs, fmt_seconds(r.p50), r.link),
                Bar(f"{r.label}\np95", r.p95, r.timed_runs, fmt_seconds(r.p95), r.link),
            )],
            axis_label="Seconds from start to finish (nearest-rank percentiles)",
        ),
        "ratings": stacked_bar_chart(
            chart_id=f"{prefix}-ratings", title="Overall rating per tool version", period=period,
            rows=[StackedRow(r.label, r.ratings.get("overall", [0] * 5), r.link) for r in tools],
            segments=["1", "2", "3", "4", "5"], axis_label="Share of reports by overall rating, 1 (poor) to 5 (%)",
            empty="No feedback yet",
        ),
        "hours": bar_chart(
            chart_id=f"{prefix}-hours", title="Hours saved per run", period=period,
            bars=[Bar(r.label, r.hours_per_job, r.hours_jobs, _hours_text(r), r.link) for r in tools],
            axis_label="Estimated hours saved per run (below 0: time lost)", empty="No estimates yet",
        ),
    }


def _feedback_charts(data: dict, prefix: str, period: str) -> dict[str, SafeString]:
    """Issue categories, NPS and blind comparisons."""
    return {
        "categories": bar_chart(
            chart_id=f"{prefix}-categories", title="Issue categories", period=period,
            bars=[Bar(c["label"], c["n"], data["total"].reports, numbers.count(c["n"]), c["link"])
                  for c in data["categories"]],
            axis_label="Reports that ticked the category (n = reports in scope)", empty="No issues reported",
            whole=True, mark_small=False,
        ),
        "nps": interval_chart(
            chart_id=f"{prefix}-nps", title="Net Promoter Score", period=period,
            items=[Interval(f"{r.survey}: {r.prompt}" if r.survey else r.prompt, r.score, r.low, r.high, r.n,
                            numbers.nps(r.score)) for r in data["nps"]],
            axis_label="NPS: % promoters (9-10) minus % detractors (0-6)", domain=(-100, 100), reference=0,
            tick_format=numbers.nps,
        ),
        "comparisons": interval_chart(
            chart_id=f"{prefix}-comparisons", title="Blind comparisons: how often each side was preferred",
            period=period,
            items=[i for c in data["comparisons"] for i in (
                Interval(f"{c.label_a} (A)", *_pct(c.rate_a), c.n, fmt_percent(c.rate_a[0])),
                Interval(f"{c.label_b} (B)", *_pct(c.rate_b), c.n, fmt_percent(c.rate_b[0])),
            )],
            axis_label="Share of votes preferring the side (%; the rest were \u201csame\u201d or the other side)",
            domain=(0, 100), reference=50, tick_format=_percent_tick, empty="No votes yet",
        ),
    }


def _weekly_charts(weeks, prefix: str, period: str) -> dict[str, SafeString]:
    """The weekly trends: counts, and success rate with mean rating."""
    return {
        "weekly_counts": line_chart(
            chart_id=f"{prefix}-weekly-counts", title="Runs and feedback reports per week", period=period,
            x_labels=[w.label for w in weeks],
            series=[Series("Runs", [w.jobs for w in weeks]), Series("Feedback reports", [w.reports for w in weeks])],
            sample_sizes=[w.jobs for w in weeks], x_axis_label="Week starting (n = runs that week)",
            y_axis_label="Count", whole=True,
        ),
        "weekly_quality": line_chart(
            chart_id=f"{prefix}-weekly-quality", title="Success rate and mean overall rating per week",
            period=period, x_labels=[w.label for w in weeks],
            series=[
                Series("Success rate (%)", [None if w.success_rate is None else w.success_rate * 100 for w in weeks]),
                Series("Mean rating \u00d7 20 (5 = 100)", [None if w.avg_overall is None else w.avg_overall * 20
                                                       for w in weeks]),
            ],
            sample_sizes=[w.reports for w in weeks], x_axis_label="Week starting (n = reports that week)",
            y_axis_label="Percent", maximum=100, tick_format=_percent_tick,
        ),
    }


def _pct(rate: tuple) -> tuple:
    return tuple(None if v is None else v * 100 for v in rate)


def tool_charts(row, prefix: str, period: str = "") -> dict[str, SafeString]:
    """The report's charts for one tool version: its three rating distributions and its issue categories."""
    return {
        "ratings": stacked_bar_chart(
            chart_id=f"{prefix}-ratings", title=f"{row.label}: ratings", period=period,
            rows=[StackedRow(name.capitalize(), row.ratings.get(name, [0] * 5))
                  for name in ("overall", "quality", "usefulness")],
            segments=["1", "2", "3", "4", "5"], axis_label="Share of reports by rating, 1 (poor) to 5 (%)",
            empty="No feedback yet",
        ),
        "categories": bar_chart(
            chart_id=f"{prefix}-categories", title=f"{row.label}: issue categories", period=period,
            bars=[Bar(c["label"], c["n"], row.reports, numbers.count(c["n"])) for c in row.categories],
            axis_label=f"Reports that ticked the category (of {numbers.count(row.reports)})",
            empty="No issues reported", whole=True, mark_small=False,
        ),
    }

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

WIDTH = 640
FONT = "'Source Sans Pro', system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
BAR_FILL = "#4e9af1"
RATING_COLOURS = ["#d9534f", "#f0883e", "#c9a227", "#7fbf5a", "#2e9d5b"]
SERIES_STYLES = [("#4e9af1", "circle", ""), ("#2e9d5b", "square", "6 4"), ("#f0883e", "diamond", "2 3")]
INK_ON_FILL = "#111111"


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


TITLE_H = 26


def _open(chart_id: str, title: str, desc: str, height: float) -> list[str]:
    """The chart's frame: its accessible name and description, and its title drawn above the plot."""
    total = height + TITLE_H
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 {WIDTH} {total:.0f}" '
        f'width="{WIDTH}" height="{total:.0f}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="{FONT}" font-size="12" fill="currentColor">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
        f'<desc id="{chart_id}-desc">{_e(desc)}</desc>',
        f'<text x="0" y="16" font-size="14" font-weight="700" aria-hidden="true">{_e(title)}</text>',
        f'<g transform="translate(0 {TITLE_H})">',
    ]


def _close(parts: list[str]) -> SafeString:
    parts.append("</g></svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text in it went through _e()


def _link(parts: list[str], link: str, inner: str) -> None:
    if link:
        parts.append(f'<a href="{_e(link)}">{inner}</a>')
    else:
        parts.append(inner)


def _empty(chart_id: str, title: str, message: str) -> SafeString:
    parts = _open(chart_id, title, message, 48)
    parts.append(f'<text x="{WIDTH / 2}" y="28" text-anchor="middle" opacity="0.75">{_e(message)}</text>')
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


def _ticks(maximum: float, count: int = 4) -> list[float]:
    return [maximum * i / count for i in range(count + 1)]


def _fmt_number(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.1f}"


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
) -> SafeString:
    """Horizontal bars, one per label, the value printed at the end and the sample size after it."""
    drawn = [b for b in bars if b.value is not None]
    if not drawn:
        return _empty(chart_id, title, empty)
    left, right, row, top = 210, 110, 28, 12
    if maximum is not None:
        top_value, ticks = maximum, _ticks(maximum)
    else:
        top_value, ticks = scale(max(b.value for b in drawn), whole=whole)
    plot = WIDTH - left - right
    height = top + row * len(bars) + 48
    desc = f"{title}. " + "; ".join(
        f"{b.label}: {b.text or (tick_format(b.value) if b.value is not None else 'no data')} (n = {b.n})"
        for b in bars
    ) + "."
    parts = _open(chart_id, title, desc, height)
    axis_y = top + row * len(bars)
    for tick in ticks:
        x = left + plot * tick / top_value
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{axis_y}" stroke="currentColor" '
                     f'stroke-opacity="0.18"/>')
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle" font-size="11">'
                     f"{_e(tick_format(tick))}</text>")
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot}" y2="{axis_y}" stroke="currentColor" '
                 f'stroke-opacity="0.6"/>')
    parts.append(f'<text x="{left + plot / 2:.1f}" y="{axis_y + 34}" text-anchor="middle" font-weight="600">'
                 f"{_e(axis_label)}</text>")
    for i, bar in enumerate(bars):
        y = top + row * i
        label = bar.label if len(bar.label) <= 32 else bar.label[:31] + "…"
        inner = f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{_e(label)}</text>'
        if bar.value is not None:
            w = max(plot * min(bar.value, top_value) / top_value, 1.5 if bar.value else 0)
            inner += f'<rect x="{left}" y="{y + 5}" width="{w:.1f}" height="{row - 10}" fill="{BAR_FILL}" rx="2"/>'
            text = bar.text or tick_format(bar.value)
            inner += (f'<text x="{left + w + 6:.1f}" y="{y + 17}" font-weight="600">{_e(text)}'
                      f'<tspan font-weight="400" opacity="0.8"> n = {bar.n:,}</tspan></text>')
        else:
            inner += f'<text x="{left + 6}" y="{y + 17}" opacity="0.75">no data (n = {bar.n:,})</text>'
        _link(parts, bar.link, inner)
    return _close(parts)


def stacked_bar_chart(
    *,
    chart_id: str,
    title: str,
    rows: Sequence[StackedRow],
    segments: Sequence[str],
    colours: Sequence[str] = RATING_COLOURS,
    axis_label: str = "Share of answers (%)",
    empty: str = "No answers yet",
) -> SafeString:
    """One 100% bar per row: how its answers split between the segments (e.g. ratings 1 to 5), with n."""
    rows = [r for r in rows if sum(r.counts)]
    if not rows:
        return _empty(chart_id, title, empty)
    left, right, row_h, legend_h = 210, 70, 30, 30
    plot = WIDTH - left - right
    height = legend_h + row_h * len(rows) + 48
    desc_rows = []
    for r in rows:
        total = sum(r.counts)
        split = ", ".join(f"{name}: {c} ({c / total:.0%})" for name, c in zip(segments, r.counts, strict=True))
        desc_rows.append(f"{r.label} (n = {total}): {split}")
    parts = _open(chart_id, title, f"{title}. " + "; ".join(desc_rows) + ".", height)
    x = left
    for name, colour in zip(segments, colours, strict=False):
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="16">{_e(name)}</text>')
        x += 24 + 7 * len(name)
    axis_y = legend_h + row_h * len(rows)
    for tick in _ticks(100):
        tx = left + plot * tick / 100
        parts.append(f'<line x1="{tx:.1f}" y1="{legend_h}" x2="{tx:.1f}" y2="{axis_y}" stroke="currentColor" '
                     f'stroke-opacity="0.18"/><text x="{tx:.1f}" y="{axis_y + 14}" text-anchor="middle" '
                     f'font-size="11">{tick:.0f}</text>')
    parts.append(f'<text x="{left + plot / 2:.1f}" y="{axis_y + 34}" text-anchor="middle" font-weight="600">'
                 f"{_e(axis_label)}</text>")
    for i, r in enumerate(rows):
        y = legend_h + row_h * i
        total = sum(r.counts)
        label = r.label if len(r.label) <= 32 else r.label[:31] + "…"
        inner = f'<text x="{left - 8}" y="{y + 19}" text-anchor="end">{_e(label)}</text>'
        x = float(left)
        for count, colour in zip(r.counts, colours, strict=False):
            if not count:
                continue
            w = plot * count / total
            inner += (f'<rect x="{x:.1f}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" fill="{colour}" '
                      f'stroke="#ffffff" stroke-width="0.5"/>')
            if w >= 22:
                inner += (f'<text x="{x + w / 2:.1f}" y="{y + 19}" text-anchor="middle" fill="{INK_ON_FILL}" '
                          f'font-size="11">{count}</text>')
            x += w
        inner += f'<text x="{left + plot + 6}" y="{y + 19}" opacity="0.85">n = {total:,}</text>'
        _link(parts, r.link, inner)
    return _close(parts)


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
) -> SafeString:
    """Weekly trends: one line per series (each with its own marker and dash), n per week under the axis."""
    values = [v for s in series for v in s.values if v is not None]
    if not x_labels or not values:
        return _empty(chart_id, title, empty)
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

    desc = f"{title}. " + "; ".join(
        f"{s.name}: " + ", ".join(f"{x_labels[i]} {tick_format(v) if v is not None else 'no data'}"
                                  for i, v in enumerate(s.values))
        for s in series
    ) + ". Sample sizes per week: " + ", ".join(f"{x} n = {n}" for x, n in zip(x_labels, sample_sizes, strict=True))
    parts = _open(chart_id, title, desc, height)
    x = left
    for s, (colour, marker, dash) in zip(series, SERIES_STYLES, strict=False):
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<line x1="{x}" y1="12" x2="{x + 22}" y2="12" stroke="{colour}" stroke-width="2"{dash_attr}/>'
                     f'{_marker(marker, x + 11, 12, colour)}<text x="{x + 28}" y="16">{_e(s.name)}</text>')
        x += 40 + 7 * len(s.name)
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
        x, _ = xy(i, 0)
        if i % every == 0 or i == len(x_labels) - 1:
            parts.append(f'<text x="{x:.1f}" y="{base + 15}" text-anchor="middle" font-size="11">{_e(label)}</text>'
                         f'<text x="{x:.1f}" y="{base + 29}" text-anchor="middle" font-size="11" opacity="0.85">'
                         f"n = {n}</text>")
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{base + 52}" text-anchor="middle" font-weight="600">'
                 f"{_e(x_axis_label)}</text>")
    for s, (colour, marker, dash) in zip(series, SERIES_STYLES, strict=False):
        points = [xy(i, v) for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>')
        parts.extend(_marker(marker, x, y, colour) for x, y in points)
    return _close(parts)


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
) -> SafeString:
    """A point and its 95% interval per row (NPS, win rates), with the value and n printed beside it."""
    drawn = [i for i in items if i.value is not None]
    if not drawn:
        return _empty(chart_id, title, empty)
    left, right, row, top = 220, 120, 30, 12
    plot = WIDTH - left - right
    low_d, high_d = domain
    height = top + row * len(items) + 48

    def sx(v: float) -> float:
        return left + plot * (min(max(v, low_d), high_d) - low_d) / (high_d - low_d)

    desc = f"{title}, with 95% intervals. " + "; ".join(
        f"{i.label}: {i.text or tick_format(i.value)} "
        f"(95% interval {tick_format(i.low)} to {tick_format(i.high)}, n = {i.n})"
        if i.value is not None else f"{i.label}: no answers"
        for i in items
    ) + "."
    parts = _open(chart_id, title, desc, height)
    axis_y = top + row * len(items)
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
        y = top + row * k + row / 2
        label = item.label if len(item.label) <= 34 else item.label[:33] + "…"
        inner = f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{_e(label)}</text>'
        if item.value is not None:
            lo, hi = sx(item.low if item.low is not None else item.value), sx(
                item.high if item.high is not None else item.value)
            inner += (f'<line x1="{lo:.1f}" y1="{y:.1f}" x2="{hi:.1f}" y2="{y:.1f}" stroke="{BAR_FILL}" '
                      f'stroke-width="2"/><line x1="{lo:.1f}" y1="{y - 5:.1f}" x2="{lo:.1f}" y2="{y + 5:.1f}" '
                      f'stroke="{BAR_FILL}" stroke-width="2"/><line x1="{hi:.1f}" y1="{y - 5:.1f}" x2="{hi:.1f}" '
                      f'y2="{y + 5:.1f}" stroke="{BAR_FILL}" stroke-width="2"/>'
                      f'<circle cx="{sx(item.value):.1f}" cy="{y:.1f}" r="5" fill="{BAR_FILL}"/>')
            inner += (f'<text x="{left + plot + 8}" y="{y + 4:.1f}" font-weight="600">'
                      f"{_e(item.text or tick_format(item.value))}"
                      f'<tspan font-weight="400" opacity="0.8"> n = {item.n:,}</tspan></text>')
        else:
            inner += f'<text x="{left + 6}" y="{y + 4:.1f}" opacity="0.75">no answers</text>'
        _link(parts, item.link, inner)
    return _close(parts)


# --- The dashboard's and the report's charts --------------------------------------------------------------------------
def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "\u2013"
    if seconds < 90:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def fmt_percent(value: float | None) -> str:
    return "\u2013" if value is None else f"{value * 100:.0f}%"


def _percent_tick(value: float) -> str:
    return f"{value:.0f}%"


def dashboard_charts(data: dict, prefix: str = "chart") -> dict[str, SafeString]:
    """Every chart of the dashboard, from `selectors.dashboard()`; ids prefixed so two sets can share a page."""
    tools, weeks = data["tools"], data["weeks"]
    return {
        "success": bar_chart(
            chart_id=f"{prefix}-success", title="Success rate per tool version",
            bars=[Bar(r.label, None if r.success_rate is None else r.success_rate * 100, r.finished,
                      fmt_percent(r.success_rate), r.link) for r in tools],
            axis_label="Succeeded runs among finished runs (%)", maximum=100, tick_format=_percent_tick,
        ),
        "runtime": bar_chart(
            chart_id=f"{prefix}-runtime", title="Run time of succeeded runs, p50 and p95",
            bars=[b for r in tools for b in (
                Bar(f"{r.label} p50", r.p50, r.timed_runs, fmt_seconds(r.p50), r.link),
                Bar(f"{r.label} p95", r.p95, r.timed_runs, fmt_seconds(r.p95), r.link),
            )],
            axis_label="Seconds from start to finish (nearest-rank percentiles)",
        ),
        "ratings": stacked_bar_chart(
            chart_id=f"{prefix}-ratings", title="Overall rating per tool version",
            rows=[StackedRow(r.label, r.ratings.get("overall", [0] * 5), r.link) for r in tools],
            segments=["1", "2", "3", "4", "5"], axis_label="Share of reports by overall rating, 1 (poor) to 5 (%)",
            empty="No feedback yet",
        ),
        "hours": bar_chart(
            chart_id=f"{prefix}-hours", title="Hours saved per run",
            bars=[Bar(r.label, r.hours_per_job, r.hours_jobs,
                      "\u2013" if r.hours_per_job is None else f"{r.hours_per_job:.1f} h ({r.hours_sum:.0f} h in all)",
                      r.link) for r in tools],
            axis_label="Estimated hours saved per run against the usual workflow", empty="No estimates yet",
        ),
        "categories": bar_chart(
            chart_id=f"{prefix}-categories", title="Issue categories",
            bars=[Bar(c["label"], c["n"], data["total"].reports, str(c["n"]), c["link"])
                  for c in data["categories"]],
            axis_label="Reports that ticked the category (n = reports in scope)", empty="No issues reported",
            whole=True,
        ),
        "nps": interval_chart(
            chart_id=f"{prefix}-nps", title="Net Promoter Score",
            items=[Interval(f"{r.survey}: {r.prompt}" if r.survey else r.prompt, r.score, r.low, r.high, r.n,
                            "" if r.score is None else f"{r.score:+.0f}") for r in data["nps"]],
            axis_label="NPS: % promoters (9-10) minus % detractors (0-6)", domain=(-100, 100), reference=0,
        ),
        "comparisons": interval_chart(
            chart_id=f"{prefix}-comparisons", title="Blind comparisons: how often each side was preferred",
            items=[i for c in data["comparisons"] for i in (
                Interval(f"{c.label_a} (A)", *_pct(c.rate_a), c.n, fmt_percent(c.rate_a[0])),
                Interval(f"{c.label_b} (B)", *_pct(c.rate_b), c.n, fmt_percent(c.rate_b[0])),
            )],
            axis_label="Share of votes preferring the side (%; the rest were “same” or the other side)",
            domain=(0, 100), reference=50, tick_format=_percent_tick, empty="No votes yet",
        ),
        "weekly_counts": line_chart(
            chart_id=f"{prefix}-weekly-counts", title="Runs and feedback reports per week",
            x_labels=[w.label for w in weeks],
            series=[Series("Runs", [w.jobs for w in weeks]), Series("Feedback reports", [w.reports for w in weeks])],
            sample_sizes=[w.jobs for w in weeks], x_axis_label="Week starting (n = runs that week)",
            y_axis_label="Count", whole=True,
        ),
        "weekly_quality": line_chart(
            chart_id=f"{prefix}-weekly-quality", title="Success rate and mean overall rating per week",
            x_labels=[w.label for w in weeks],
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


def tool_charts(row, prefix: str) -> dict[str, SafeString]:
    """The report's charts for one tool version: its three rating distributions and its issue categories."""
    return {
        "ratings": stacked_bar_chart(
            chart_id=f"{prefix}-ratings", title=f"{row.label}: ratings",
            rows=[StackedRow(name.capitalize(), row.ratings.get(name, [0] * 5))
                  for name in ("overall", "quality", "usefulness")],
            segments=["1", "2", "3", "4", "5"], axis_label="Share of reports by rating, 1 (poor) to 5 (%)",
            empty="No feedback yet",
        ),
        "categories": bar_chart(
            chart_id=f"{prefix}-categories", title=f"{row.label}: issue categories",
            bars=[Bar(c["label"], c["n"], row.reports, str(c["n"])) for c in row.categories],
            axis_label=f"Reports that ticked the category (of {row.reports})", empty="No issues reported",
            whole=True,
        ),
    }

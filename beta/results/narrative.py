"""The report's executive summary, written from the numbers by fixed sentence templates (no language model: every
word is traceable to a number on the page), with every number through `beta.results.numbers`.

One paragraph for the whole programme, one sentence per tool about its newest version (against the version before
it), then the NPS, the blind comparisons and the most ticked issue. A rate or mean from fewer than
`charts.SMALL_SAMPLE` runs or answers is called a small sample, as in the charts.
"""

from __future__ import annotations

import re
from itertools import groupby

from beta.results import numbers
from beta.results.charts import SMALL_SAMPLE


def version_key(version: str) -> tuple:
    """"0.10.0" after "0.9.0": numbers compared as numbers, the rest as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.\-+]", version))


def _small(n: int) -> str:
    return " (a small sample)" if n < SMALL_SAMPLE else ""


def _runs(n: int) -> str:
    return f"{numbers.count(n)} run{'' if n == 1 else 's'}"


def _finished(n: int) -> str:
    return f"{numbers.count(n)} finished run{'' if n == 1 else 's'}"


def _change(row, previous, version_name: str) -> str:
    """", up from 67% in 0.9" against the version before, compared as printed (so the words match the numbers)."""
    if previous is None or previous.success_rate is None:
        return ""
    now, before = numbers.rounded(row.success_rate * 100), numbers.rounded(previous.success_rate * 100)
    if now == before:
        return f", the same as {version_name}"
    direction = "up" if now > before else "down"
    return f", {direction} from {numbers.percent(previous.success_rate)} in {version_name}"


def _feedback_clause(row) -> str:
    rated = sum(row.ratings.get("overall", []))
    if not rated:
        clause = "no partner has rated it yet"
    else:
        small = ", a small sample" if rated < SMALL_SAMPLE else ""
        clause = f"partners rated it {numbers.rating(row.avg_overall)}/5 (n = {numbers.count(rated)}{small})"
    if row.hours_reports:
        hours = numbers.hours(row.hours_sum, unit=False)
        clause += f" and reported {hours} hours saved" + (" (time lost)" if numbers.rounded(row.hours_sum, 1) < 0
                                                           else "")
    return clause


def tool_name(row) -> str:
    """The tool's name without its version (row labels are "<name> <version>")."""
    version = row.key[1]
    return row.label[: -len(version)].strip() if version and row.label.endswith(version) else row.label


def tool_sentence(row, previous=None) -> str:
    """For example: "Dailies 1.0 succeeded in 100% of 6 finished runs, up from 67% in 0.9; partners rated it 4.3/5
    (n = 6) and reported 17.5 hours saved." """
    name, version = tool_name(row), row.key[1]
    if row.success_rate is None:
        opening = f"{name} {version} has no finished runs yet"
    else:
        opening = (f"{name} {version} succeeded in {numbers.percent(row.success_rate)} of {_finished(row.finished)}"
                   f"{_small(row.finished)}{_change(row, previous, previous.key[1] if previous else '')}")
    return f"{opening}; {_feedback_clause(row)}."


def tool_sentences(tools: list) -> list[str]:
    """One sentence per tool, about its newest version (compared with the newest earlier version that finished
    runs)."""
    sentences = []
    for _, rows in groupby(sorted(tools, key=lambda r: r.key[0]), key=lambda r: r.key[0]):
        versions = sorted(rows, key=lambda r: version_key(r.key[1]))
        latest = versions[-1]
        earlier = [r for r in versions[:-1] if r.success_rate is not None]
        sentences.append(tool_sentence(latest, earlier[-1] if earlier else None))
    return sentences


def overview_sentence(total, studios: int) -> str:
    if not total.jobs:
        return "No runs fall in this period, so there is nothing to summarise yet."
    text = (f"{numbers.count(studios)} studio{'' if studios == 1 else 's'} ran the tools {numbers.count(total.jobs)} "
            f"time{'' if total.jobs == 1 else 's'}; {numbers.percent(total.success_rate)} of "
            f"{_runs(total.finished)} that finished succeeded")
    if total.reports:
        text += (f", and {numbers.count(total.reports)} feedback report{'' if total.reports == 1 else 's'} gave a "
                 f"mean overall rating of {numbers.rating(total.avg_overall)}/5")
    if total.hours_reports:
        text += f", with {numbers.hours(total.hours_sum, unit=False)} hours saved in all by partners' estimates"
    return text + "."


def nps_sentence(nps) -> str:
    if nps is None or nps.score is None:
        return ""
    small = ", a small sample" if nps.n < SMALL_SAMPLE else ""
    return (f"The Net Promoter Score is {numbers.nps(nps.score)} (95% CI {numbers.nps(nps.low)} to "
            f"{numbers.nps(nps.high)}, n = {numbers.count(nps.n)}{small}).")


def comparison_sentence(comparison) -> str:
    share = comparison.rate_a[0]
    if share is None:
        return ""
    return (f"In blind comparisons, partners preferred {comparison.label_a} to {comparison.label_b} in "
            f"{numbers.percent(share)} of {numbers.count(comparison.n)} vote{'' if comparison.n == 1 else 's'} "
            f"(a tie counts half{'; a small sample' if comparison.n < SMALL_SAMPLE else ''}).")


def issue_sentence(categories: list[dict], reports: int) -> str:
    if not categories:
        return ""
    top = categories[0]
    return (f"The issue partners ticked most was \u201c{top['label']}\u201d, in {numbers.count(top['n'])} of "
            f"{numbers.count(reports)} reports.")


def executive_summary(data: dict) -> dict[str, list[str]]:
    """The summary's paragraphs: `overview` (the programme) and `tools` (a sentence per tool), then `more`."""
    total = data["total"]
    more = [nps_sentence(data.get("nps_overall"))]
    more += [comparison_sentence(c) for c in data.get("comparisons", [])]
    more.append(issue_sentence(data.get("categories", []), total.reports))
    return {
        "overview": [overview_sentence(total, len([s for s in data.get("studios", []) if s.jobs]))],
        "tools": tool_sentences(data.get("tools", [])),
        "more": [s for s in more if s],
    }

"""Template filters for the results pages and report: every number through `beta.results.numbers`."""

from django import template

from beta.results import numbers

register = template.Library()

register.filter("hours", numbers.hours)
register.filter("count", numbers.count)
register.filter("percent", numbers.percent)
register.filter("rating", numbers.rating)
register.filter("nps", numbers.nps)
register.filter("seconds", numbers.seconds)


@register.filter("hours_value")
def hours_value(value):
    """Hours without the unit, for a column headed "Hours saved"."""
    return numbers.hours(value, unit=False)

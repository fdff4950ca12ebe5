"""Domain errors of blind comparisons."""


class ComparisonError(Exception):
    """The comparison cannot be set up or answered as asked."""


class ComparisonClosedError(ComparisonError):
    """The comparison takes no more votes (closed by staff, or past its due date)."""

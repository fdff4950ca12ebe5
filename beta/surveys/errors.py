"""Domain errors of surveys; views turn them into messages written for the person."""


class SurveyError(Exception):
    """Something about a survey the person asked for cannot be done."""


class SurveyNotOpenError(SurveyError):
    """The survey is not open to answers (before it opens, or after its due date)."""


class SurveyValidationError(SurveyError):
    """Answers that do not fit their questions; `errors` maps a question id to its message."""

    def __init__(self, errors: dict[int, str]):
        self.errors = errors
        super().__init__("Some answers need attention.")

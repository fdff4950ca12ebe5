"""The range of a row id, shared by every form and serializer that reads one from outside.

Ids are 64-bit (`BigAutoField`); a number beyond that is not a missing row but an OverflowError in the database
driver (SQLite) or a cast error (PostgreSQL), i.e. a server error. Reading ids through `IdField` / `validate_id`
makes such a number an ordinary field error.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection

#: what the database can store in an id column (the same on SQLite and PostgreSQL: a signed 64-bit integer)
ID_MIN = 1
ID_MAX = connection.ops.integer_field_range("BigAutoField")[1]
ID_MESSAGE = f"Not a valid id (ids are whole numbers from {ID_MIN} to {ID_MAX})."


def is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and ID_MIN <= value <= ID_MAX


def validate_id(value) -> None:
    """A Django validator (forms and DRF serializers both run these)."""
    if not is_id(value):
        raise ValidationError(ID_MESSAGE, code="invalid_id")


def parse_id(text) -> int | None:
    """An id from text ("42"), or None when it is not one: for views that read a lone id from a form."""
    text = str(text if text is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(ID_MAX)):
        return None
    value = int(text)
    return value if is_id(value) else None


class IdField(forms.IntegerField):
    """A form field for one id."""

    default_validators = [validate_id]

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


class ModelIdsField(forms.ModelMultipleChoiceField):
    """ModelMultipleChoiceField whose values are checked as ids before the `pk__in` query (which overflows)."""

    def _check_values(self, value):
        for pk in value:
            if parse_id(pk) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": str(pk)[:30]}
                )
        return super()._check_values(value)

"""The run form of a tool, generated from the tool's JSON Schema.

The form only turns text from the browser into typed values (a number field that is not a number is a field error
here); the rules themselves (bounds, patterns, which files may be used) are checked by `job_submit`, whose
`JobParameterError` the view puts back next to its field.
"""

from __future__ import annotations

import uuid

from django import forms

from portal.ids import parse_id

#: form fields of our own, which a tool's parameters cannot shadow
RESERVED = ("assets", "idempotency_key")


def _humanise(name: str) -> str:
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def _type(schema: dict) -> str:
    kind = schema.get("type", "string")
    if isinstance(kind, list):  # ["integer", "null"]: the first real type
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def _number_attrs(schema: dict, integer: bool) -> dict:
    attrs = {}
    for key, attr in (("minimum", "min"), ("maximum", "max")):
        if key in schema:
            attrs[attr] = schema[key]
    if "exclusiveMinimum" in schema and "min" not in attrs:
        attrs["min"] = schema["exclusiveMinimum"]
    if "exclusiveMaximum" in schema and "max" not in attrs:
        attrs["max"] = schema["exclusiveMaximum"]
    attrs["step"] = schema.get("multipleOf", 1 if integer else "any")
    return attrs


def _enum_choices(schema: dict) -> list[tuple[str, str]]:
    labels = schema.get("enumNames") or schema.get("x-enum-labels") or []
    return [(str(v), str(labels[i]) if i < len(labels) else str(v)) for i, v in enumerate(schema["enum"])]


def field_for_property(name: str, schema: dict, *, required: bool) -> forms.Field:
    """One form field for one JSON Schema property: typed, labelled, with the browser's own limits."""
    label = schema.get("title") or _humanise(name)
    help_text = schema.get("description", "")
    default = schema.get("default")
    required = required and default is None
    kind = _type(schema)
    if "enum" in schema:
        return _choice_field(schema, label=label, help_text=help_text, required=required, default=default)
    if kind == "boolean":
        return forms.BooleanField(label=label, help_text=help_text, required=False, initial=bool(default))
    if kind in ("integer", "number"):
        return _number_field(schema, kind, label=label, help_text=help_text, required=required, default=default)
    if kind == "array":
        return _list_field(label=label, help_text=help_text, required=required)
    return _text_field(schema, label=label, help_text=help_text, required=required, default=default)


def _choice_field(schema: dict, *, label: str, help_text: str, required: bool, default) -> forms.Field:
    by_text = {str(v): v for v in schema["enum"]}
    choices = _enum_choices(schema)
    if not required and default is None:
        choices = [("", "(the tool's default)"), *choices]
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        required=required,
        initial=None if default is None else str(default),
        choices=choices,
        coerce=lambda text: by_text[text],
        empty_value=None,
    )


def _number_field(schema: dict, kind: str, *, label: str, help_text: str, required: bool, default) -> forms.Field:
    integer = kind == "integer"
    field_class = forms.IntegerField if integer else forms.FloatField
    field = field_class(
        label=label,
        help_text=help_text,
        required=required,
        initial=default,
        widget=forms.NumberInput(attrs=_number_attrs(schema, integer)),
    )
    field.error_messages["invalid"] = "Enter a whole number." if integer else "Enter a number."
    return field


def _list_field(*, label: str, help_text: str, required: bool) -> forms.Field:
    """A list (a polygon's corners) typed as JSON; the schema checks its shape when the job is submitted."""
    field = forms.JSONField(
        label=label, help_text=help_text, required=required,
        widget=forms.TextInput(attrs={"placeholder": "[[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]", "spellcheck": "false",
                                     "data-polygon": "1"}),  # static/js/polygon.js draws it on a frame
    )  # fmt: skip
    field.error_messages["invalid"] = "Enter a list in JSON, e.g. [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]."
    return field


def _text_field(schema: dict, *, label: str, help_text: str, required: bool, default) -> forms.Field:
    """A text input with the schema's pattern and lengths; a pattern without a description gets an example."""
    attrs = {}
    if "pattern" in schema:
        attrs["pattern"] = schema["pattern"]
        if not help_text:
            example = (schema.get("examples") or [default])[0]
            help_text = f"For example {example}." if example else f"In the form {schema['pattern']}."
    if "maxLength" in schema:
        attrs["maxlength"] = schema["maxLength"]
    if "minLength" in schema:
        attrs["minlength"] = schema["minLength"]
    if schema.get("examples"):
        attrs["placeholder"] = str(schema["examples"][0])
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        initial=default,
        strip=True,
        widget=forms.TextInput(attrs=attrs),
    )


class AssetIdsField(forms.Field):
    """The chosen files: ids as whole numbers. Whose files they are, and of which kind, `job_submit` decides."""

    widget = forms.SelectMultiple  # reads every value of the name (radio buttons send one, checkboxes many)
    default_error_messages = {
        "required": "Choose a file to run the tool on.",
        "invalid": "Choose files from the list.",
    }

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        value = [v for v in value if str(v).strip()]  # "No file", for a tool whose input is optional
        ids = [parse_id(v) for v in value]
        if None in ids:  # not a number, or beyond what an id can be (a server error in the database otherwise)
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return ids


class ToolRunForm(forms.Form):
    """Files to run a tool on, its parameters, and a one-time token so a double-click makes one job."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)
    assets = AssetIdsField(label="Files")

    def __init__(self, *args, tool, assets=(), preselected=(), each=False, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.tool = tool
        self.asset_options = list(assets)
        self.preselected = {asset.pk for asset in preselected}
        #: a one-file tool run on several files: one job per file (`job_submit_each`)
        self.each = each and tool.max_inputs == 1
        self.multiple = tool.max_inputs > 1 or self.each
        self.fields["assets"].required = tool.min_inputs > 0  # e.g. text to image: a file is optional
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
        schema = tool.parameters or {}
        required = set(schema.get("required", []))
        self.parameter_names = []
        for name, prop in schema.get("properties", {}).items():
            if name in RESERVED:
                continue
            self.fields[name] = field_for_property(name, prop or {}, required=name in required)
            self.parameter_names.append(name)

    @property
    def parameter_fields(self):
        return [self[name] for name in self.parameter_names]

    @property
    def chosen_asset_ids(self) -> set[int]:
        """What to show as ticked: what was sent (even if invalid), else the only file when there is one."""
        if self.is_bound:
            chosen: set[int] = set()
            for value in self.data.getlist("assets") if hasattr(self.data, "getlist") else []:
                if (asset_id := parse_id(value)) is not None:
                    chosen.add(asset_id)
            return chosen
        if self.preselected:  # a link's `?input=` (already checked: the studio's own, of a kind the tool takes)
            return set(self.preselected)
        if len(self.asset_options) == 1 and self.tool.min_inputs > 0:
            return {self.asset_options[0].pk}
        return set()

    def parameters(self) -> dict:
        """The typed parameters to submit; blank optional fields are left out so the tool's defaults apply."""
        data = {}
        for name in self.parameter_names:
            value = self.cleaned_data.get(name)
            if isinstance(self.fields[name], forms.BooleanField):
                data[name] = bool(value)
            elif value is not None and value != "":
                data[name] = value
        return data

    def asset_ids(self) -> list[int]:
        return list(self.cleaned_data.get("assets") or [])

    def add_parameter_error(self, field: str, message: str) -> None:
        """Put a service's parameter error next to its field (or at the top when it names none we show)."""
        name = field.split(".", 1)[0] if field else ""
        if message.startswith(f"{field}: "):
            message = message[len(field) + 2 :]
        if name in self.fields and name not in RESERVED:
            prop = (self.tool.parameters or {}).get("properties", {}).get(name, {})
            if "does not match" in message and "pattern" in prop:
                message = "not in the expected form (see the hint below)."
            self.add_error(name, message[:1].upper() + message[1:])
        else:
            self.add_error(None, f"{_humanise(field)}: {message}" if field else message)

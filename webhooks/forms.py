from django import forms

from portal.events import EVENT_TYPES

EVENT_CHOICES = [(e, e) for e in EVENT_TYPES]


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL", max_length=2000,
        help_text="An https:// URL on the public internet that answers 2xx within 10 seconds.",
        widget=forms.URLInput(attrs={"placeholder": "https://pipeline.example.com/greenlight/webhooks",
                                     "autocomplete": "off", "inputmode": "url"}),
    )
    description = forms.CharField(label="Description", max_length=200, required=False,
                                  help_text="Optional: what receives these (e.g. “render farm notifier”).")
    events = forms.MultipleChoiceField(
        label="Events", choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple,
        help_text="What this endpoint is told about.",
        error_messages={"required": "Choose at least one event."},
    )


class EndpointEditForm(EndpointForm):
    enabled = forms.BooleanField(label="Enabled", required=False,
                                 help_text="Enabling again clears the failure record and resumes deliveries.")

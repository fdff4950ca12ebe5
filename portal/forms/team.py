"""Forms of the team page: they check the shape of the input; the rules (seats, duplicates, owners) are the services."""

from django import forms

from portal.models import Membership


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(
        label="Role",
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        help_text="Owners can also invite people and manage the team.",
    )


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        error_messages={"required": "Choose a role.", "invalid_choice": "Choose owner, member or viewer."},
    )

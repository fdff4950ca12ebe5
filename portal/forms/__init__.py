from allauth.account.forms import SignupForm
from allauth.core import context
from django import forms


class InviteSignupForm(SignupForm):
    """allauth's sign-up form, for someone accepting an invite: the email is the invite's and cannot change."""

    full_name = forms.CharField(
        label="Your name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )

    field_order = ["full_name", "email", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from portal.adapters import invite_in_session

        invite = invite_in_session(getattr(context, "request", None))
        if invite is not None:
            email = self.fields["email"]
            email.initial = invite.email
            email.disabled = True  # a disabled field ignores whatever is posted for it
            email.help_text = "The address your invitation was sent to."

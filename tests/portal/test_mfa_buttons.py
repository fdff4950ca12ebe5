"""allauth's outline buttons ("Use a security key", "Cancel" on the MFA page) were rendered as primary + ghost: the
primary text colour on a transparent background, invisible in both themes. An outline button is a ghost button."""

from django.template import Context, Origin, Template


def _button(tags: str) -> str:
    return Template(
        '{% load allauth %}{% element button type="submit" tags="' + tags + '" %}Use a security key{% endelement %}',
        origin=Origin("test_mfa_buttons.html", template_name="test_mfa_buttons.html"),
    ).render(Context({}))


def test_outline_primary_buttons_are_ghost_buttons_with_readable_text():
    html = _button("outline,primary")
    assert "btn--ghost" in html
    assert "btn--primary" not in html
    assert "Use a security key" in html


def test_a_primary_button_is_still_primary():
    html = _button("primary,mfa,login")
    assert "btn--primary" in html
    assert "btn--ghost" not in html

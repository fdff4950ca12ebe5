"""Readers the staff pages' tests share: a page's own forms, and the flash messages of a response. (The `admin` and
`reviewer` fixtures, signed in on the test client, are in tests/conftest.py.)"""

import re


def page_forms(page: str) -> list[str]:
    """The forms of a page other than the header's own (sign-out, theme switch)."""
    return [form for form in re.findall(r"<form[^>]*>", page) if "logout" not in form and "data-theme-form" not in form]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]

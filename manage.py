#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - load the settings now, so a refusal is said plainly
    except ImproperlyConfigured as exc:
        # Django's command runner would swallow this and fail later with "Models aren't loaded yet".
        sys.exit(f"Greenlight cannot start: {exc}\nFor local development set DJANGO_DEBUG=1 (`make run` does).")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

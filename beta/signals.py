"""Cache invalidation only (no business rules here): a tool's cached switch is dropped whenever it changes."""

from django.core.cache import cache
from django.db import transaction

from beta.selectors import TOOL_SWITCH_CACHE_KEY


def tool_switch_changed(sender, instance, **kwargs) -> None:
    """post_save, post_delete and m2m_changed (its cohorts) of a ToolSwitch: the next submit reads it afresh.

    Deleted now and again after commit, so a reader that cached the old row before the commit cannot keep it."""
    from beta.models import ToolSwitch

    if isinstance(instance, ToolSwitch):
        slugs = [instance.slug]
    else:  # a cohort's tools changed (the reverse side): those switches, or all when Django does not say which
        pk_set = kwargs.get("pk_set")
        switches = ToolSwitch.objects.all() if pk_set is None else ToolSwitch.objects.filter(pk__in=pk_set)
        slugs = list(switches.values_list("slug", flat=True))
    keys = [TOOL_SWITCH_CACHE_KEY.format(slug=slug) for slug in slugs]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def connect() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from beta.models import ToolSwitch

    post_save.connect(tool_switch_changed, sender=ToolSwitch, dispatch_uid="beta.tool_switch_saved")
    post_delete.connect(tool_switch_changed, sender=ToolSwitch, dispatch_uid="beta.tool_switch_deleted")
    m2m_changed.connect(tool_switch_changed, sender=ToolSwitch.cohorts.through, dispatch_uid="beta.tool_switch_cohorts")

"""Fill the lineage of tool outputs stored before assets knew it: each output derives from its run's first input,
stacks under the upload at the head of that input's stack, and says which tool and version made it."""

from django.db import migrations


def _label(tool_slug, tool_version):
    # Frozen here on purpose: beta.jobs.common.lineage_label as it was when this ran.
    parts = tool_version.split(".")
    if len(parts) == 3 and parts[2] == "0":
        parts = parts[:2]
    return f"{tool_slug} {'.'.join(parts)}".strip()


def fill_lineage(apps, schema_editor):
    Asset = apps.get_model("assets", "Asset")
    JobInput = apps.get_model("beta", "JobInput")
    JobOutput = apps.get_model("beta", "JobOutput")
    first_inputs = {}
    for job_id, asset_id in JobInput.objects.order_by("job_id", "-position").values_list("job_id", "asset_id"):
        first_inputs[job_id] = asset_id  # the lowest position wins, being written last
    made = {}  # output asset id -> (input asset id or None, label)
    rows = JobOutput.objects.values_list("asset_id", "job_id", "job__tool_slug", "job__tool_version")
    for asset_id, job_id, slug, version in rows.iterator():
        made[asset_id] = (first_inputs.get(job_id), _label(slug, version))

    def root_of(asset_id, seen=()):
        parent = made.get(asset_id, (None, ""))[0]
        if parent is None or parent in seen:
            return asset_id
        return root_of(parent, (*seen, asset_id))

    deleted = set(Asset.objects.filter(pk__in=made, status="deleted").values_list("pk", flat=True))
    for asset_id, (parent, label) in made.items():
        root = root_of(asset_id) if parent is not None else None
        if root in deleted:
            root = None
        Asset.objects.filter(pk=asset_id).update(derived_from_id=parent, lineage_root_id=root, derived_by=label[:80])


def clear_lineage(apps, schema_editor):
    apps.get_model("assets", "Asset").objects.update(derived_from=None, lineage_root=None, derived_by="")


class Migration(migrations.Migration):
    dependencies = [
        ("beta", "0014_feedback_notes_replies_search_index"),
        ("assets", "0007_asset_lineage"),
    ]

    operations = [migrations.RunPython(fill_lineage, clear_lineage)]

"""What a tool's results panel (`beta/results/<slug>.html`) needs beyond the job page's own context, and the
pre-filling of a run form from an earlier job ("run again with these changes").

The job and its inputs and outputs arrive already fetched through the tenant-scoped selectors; nothing here reads
another object by id.
"""

from __future__ import annotations

from assets.templatetags.asset_tags import asset_name
from beta.forms import ToolRunForm
from beta.models import Job
from beta.views.review import compare_side


def rerun_initial(job: Job, tool) -> dict:
    """The job's parameters as a run form's initial values: only the tool's own parameters, and none left empty."""
    properties = (tool.parameters or {}).get("properties", {})
    return {name: value for name, value in (job.parameters or {}).items() if name in properties and value is not None}


def rerun_form(job: Job, tool) -> ToolRunForm:
    """The tool's run form holding this job's parameters, for the job page (its own ids, so they clash with no other
    form there). The files go with it as hidden fields, in the job's order."""
    return ToolRunForm(tool=tool, initial=rerun_initial(job, tool), auto_id="rerun-%s")


def _temp_comp(job: Job, tool, inputs: list, outputs_by_role: dict, *, can_rerun: bool) -> dict:
    """The comp's review copy against the plate (the first input) in a wipe, the matte in its own player, and the
    form to run again with changed parameters on the same files."""
    plate = inputs[0].asset if inputs else None
    review = outputs_by_role.get("review")
    sides = None
    if plate is not None and review is not None:
        left = compare_side(plate, f"Plate: {asset_name(plate)}")
        right = compare_side(review["asset"], "Temp comp (review copy)")
        sides = [left, right] if left and right else None
    return {
        "compare_sides": sides,
        "matte": outputs_by_role.get("matte"),
        "rerun_form": rerun_form(job, tool) if can_rerun and tool is not None else None,
        "rerun_inputs": [job_input.asset_id for job_input in inputs],
        # played in the panel (the ProRes comp is the review copy's picture): listed with the files, not played again
        "played_roles": {"comp", "review", "matte"},
    }


RESULTS_CONTEXT = {"temp-comp": _temp_comp}


def results_context(job: Job, tool, inputs: list, outputs_by_role: dict, *, can_rerun: bool) -> dict:
    """Extra context for the tool's results panel ({} for a tool that needs none)."""
    build = RESULTS_CONTEXT.get(job.tool_slug)
    if build is None or job.status != Job.Status.SUCCEEDED:
        return {}
    return build(job, tool, inputs, outputs_by_role, can_rerun=can_rerun)

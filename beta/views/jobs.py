"""Tool catalogue, the run form of each tool, and job pages (list, live progress, outputs, cancel and retry).

Jobs are fetched only through `Job.objects.for_user` (or `jobs_for_user`, built on it): another studio's job is a 404.
Writes go through `beta.jobs`; their domain errors become messages written for the partner.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assets import selectors as asset_selectors
from assets.storage import StorageError, get_store
from beta import selectors
from beta import tools as catalogue_registry
from beta.errors import BulkSubmitError, InputNotFoundError, JobError, JobParameterError
from beta.feedback import selectors as feedback_selectors
from beta.forms import ToolRunForm
from beta.jobs import control
from beta.jobs.submit import inputs_for_link, job_submit, job_submit_each, studio_assets, validate_parameters
from beta.models import Job
from beta.views.review import compare_links
from beta.views.tool_results import rerun_initial, results_context
from portal import selectors as portal_selectors
from portal.decorators import partner_required, staff_required
from portal.errors import PermissionDeniedError
from portal.ids import parse_id
from portal.models import Membership
from portal.tdm import not_for_training

QUEUE_LABELS = {"cpu": "CPU", "gpu": "GPU", "external": "External service"}
JOBS_PER_PAGE = 25
LOG_TAIL_LINES = 30


# --- Helpers ----------------------------------------------------------------------------------------------------------
def _tool_names() -> dict[str, str]:
    return {tool.slug: tool.name for tool in catalogue_registry.all_tools()}


def _human_duration(seconds: float) -> str:
    seconds = max(round(seconds), 0)
    if seconds < 60:
        return f"{max(seconds, 1)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def time_left(job: Job, now=None) -> str:
    """The time a running job still needs, from its progress rate since it started ("" when unknown)."""
    if job.status != Job.Status.RUNNING or not job.started_at or not 0 < job.progress < 100:
        return ""
    elapsed = ((now or timezone.now()) - job.started_at).total_seconds()
    if elapsed <= 0:
        return ""
    return f"about {_human_duration(elapsed * (100 - job.progress) / job.progress)} left"


def _permissions(user, job: Job) -> dict:
    """Which buttons to offer (the services decide in the end): members cancel and retry their studio's jobs;
    programme admins may cancel any job, but a retry runs as a studio member, so only members retry."""
    membership = portal_selectors.membership_for_user(user)
    member = (
        membership is not None
        and membership.organization_id == job.organization_id
        and membership.role != Membership.Role.VIEWER
    )
    return {"can_cancel": member or user.is_programme_admin, "can_retry": member}


def _job(request, job_id) -> Job:
    return get_object_or_404(Job.objects.for_user(request.user), pk=job_id)


# --- Catalogue and the run form ---------------------------------------------------------------------------------------
def _linked_ids(request, name: str) -> list[int]:
    """The ids a link carries (`?asset=` / `?input=`, repeatable), in order; a value that is no id is a 404."""
    ids = [parse_id(value) for value in request.GET.getlist(name)]
    if None in ids:
        raise Http404("That is not a file of yours.")
    return list(dict.fromkeys(i for i in ids if i is not None))


def _chosen_assets(request, organization) -> list:
    """The files `?asset=` names ("run a tool on this", the library's selection): the studio's own, found with the
    submit's own lookup, so another studio's id is a 404."""
    ids = _linked_ids(request, "asset")
    if not ids:
        return []
    found = studio_assets(organization, ids) if organization is not None else {}
    if len(found) != len(ids) or any(a.status == a.Status.DELETED for a in found.values()):
        raise Http404("That file is not one of your studio's files.")
    return [found[i] for i in ids]


def _catalogue_card(tool, organization, chosen: list) -> dict | None:
    available, reason = selectors.tool_availability(tool, organization)
    card = {"tool": tool, "available": available, "reason": reason, "run_url": reverse("beta:submit", args=[tool.slug]),
            "queue_label": QUEUE_LABELS.get(tool.queue, tool.queue)}
    if chosen:
        fits = [asset for asset in chosen if asset.kind in tool.input_kinds]
        if not fits:
            return None  # filtered out: it takes none of the chosen kinds
        card["fits"] = fits
        card["left_out"] = len(chosen) - len(fits)
        card["run_url"] += "?" + urlencode([("input", asset.pk) for asset in fits])
    return card


@partner_required
@require_GET
def catalogue(request):
    """The tools; with `?asset=<id>` (repeatable) only those that take the files' kinds, each linking to its run
    form with the files pre-selected (`?input=`)."""
    membership = portal_selectors.membership_for_user(request.user)
    organization = membership.organization if membership else None
    chosen = _chosen_assets(request, organization)
    cards = []
    for tool in catalogue_registry.all_tools():
        if tool.configuration_problem():  # e.g. Bedrock not set up: not offered at all (staff see it in the admin)
            continue
        if (card := _catalogue_card(tool, organization, chosen)) is not None:
            cards.append(card)
    return render(
        request,
        "beta/catalogue.html",
        {
            "cards": cards,
            "chosen": chosen,
            "membership": membership,
            "is_viewer": membership is not None and membership.role == Membership.Role.VIEWER,
        },
    )


def _pickable_assets(user, tool, organization):
    if organization is None:
        return []
    return list(
        asset_selectors.library(user=user, status="ready").filter(organization=organization, kind__in=tool.input_kinds)
    )


def _earlier_job(request, tool) -> Job | None:
    """The job `?from_job=<id>` names ("run again with these changes"), through the tenant-scoped selector: another
    studio's job, or one that did not run this tool, is a 404."""
    value = request.GET.get("from_job")
    if value is None:
        return None
    job_id = parse_id(value)
    if job_id is None:
        raise Http404("That is not a job of yours.")
    job = _job(request, job_id)
    if job.tool_slug != tool.slug:
        raise Http404("That job ran another tool.")
    return job


def _in_order(assets: list, first_ids: list[int]) -> list:
    """The pickable files with these first, in this order: the form sends ticked files in page order, and a tool
    that takes several reads their order (temp-comp: the plate, then the background)."""
    rank = {asset_id: index for index, asset_id in enumerate(dict.fromkeys(first_ids))}
    return sorted(assets, key=lambda asset: rank.get(asset.pk, len(rank)))


@partner_required
@require_http_methods(["GET", "POST"])
def submit(request, tool_slug):
    """A tool's run form. `?input=<id>` (repeatable) ticks those files; `?from_job=<id>` fills in that job's
    parameters, and its files unless `?input=` names others."""
    tool = catalogue_registry.get_tool(tool_slug)
    if tool is None or tool.configuration_problem():
        raise Http404
    membership = portal_selectors.membership_for_user(request.user)
    organization = membership.organization if membership else None
    available, reason = selectors.tool_availability(tool, organization)
    assets = _pickable_assets(request.user, tool, organization)
    link_problems: list[str] = []
    earlier = None
    if request.method == "POST":
        assets = _in_order(assets, [i for i in map(parse_id, request.POST.getlist("assets")) if i is not None])
        form = ToolRunForm(request.POST, tool=tool, assets=assets, each=request.POST.get("each") == "1")
        if form.is_valid() and form.each:
            response = _submit_each(request, tool, form)
            if response is not None:
                return response
        elif form.is_valid():
            try:
                job = job_submit(
                    actor=request.user,
                    tool_slug=tool.slug,
                    asset_ids=form.asset_ids(),
                    parameters=form.parameters(),
                    idempotency_key=form.cleaned_data.get("idempotency_key") or None,
                    request=request,
                )
            except JobParameterError as exc:
                form.add_parameter_error(exc.field, str(exc))
            except (JobError, PermissionDeniedError) as exc:  # QuotaError is a JobError
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{tool.name} is queued as job {job.pk}. This page follows its progress.")
                return redirect("beta:job-detail", job_id=job.pk)
        elif not any(form.has_error(name) for name in form.parameter_names):
            # The files were wrong; say now, too, if a parameter is, rather than on the next attempt.
            try:
                validate_parameters(tool, form.parameters())
            except JobParameterError as exc:
                form.add_parameter_error(exc.field, str(exc))
    else:
        earlier = _earlier_job(request, tool)
        linked = _linked_ids(request, "input")
        if earlier is not None and not linked:
            linked = [job_input.asset_id for job_input in earlier.job_inputs.all()]
        try:
            preselected, link_problems = inputs_for_link(organization=organization, tool=tool, asset_ids=linked)
        except InputNotFoundError as exc:
            raise Http404(str(exc)) from exc
        assets = _in_order(assets, [asset.pk for asset in preselected])
        form = ToolRunForm(tool=tool, assets=assets, preselected=preselected, each=len(preselected) > 1,
                           initial=rerun_initial(earlier, tool) if earlier is not None else None)
    return render(
        request,
        "beta/submit.html",
        {
            "link_problems": link_problems,
            "from_job": earlier,
            "tool": tool,
            "form": form,
            "available": available,
            "reason": reason,
            "membership": membership,
            "is_viewer": membership is not None and membership.role == Membership.Role.VIEWER,
            "queue_label": QUEUE_LABELS.get(tool.queue, tool.queue),
            "input_kinds": ", ".join(tool.input_kinds),
        },
    )


def _submit_each(request, tool, form: ToolRunForm):
    """A one-file tool on several files: one job each. Back to the form (None) when nothing could be queued."""
    try:
        jobs = job_submit_each(actor=request.user, tool_slug=tool.slug, asset_ids=form.asset_ids(),
                               parameters=form.parameters(),
                               idempotency_key=form.cleaned_data.get("idempotency_key") or None, request=request)
    except JobParameterError as exc:
        form.add_parameter_error(exc.field, str(exc))
        return None
    except BulkSubmitError as exc:
        if not exc.jobs:
            form.add_error(None, str(exc))
            return None
        messages.warning(request, str(exc))
        return redirect("beta:job-list")
    except (JobError, PermissionDeniedError) as exc:
        form.add_error(None, str(exc))
        return None
    numbers = ", ".join(str(job.pk) for job in jobs)
    messages.success(request, f"{tool.name} is queued for {len(jobs)} files, one job each: jobs {numbers}.")
    return redirect("beta:job-list")


# --- Job lists --------------------------------------------------------------------------------------------------------
def _list_context(request, *, staff: bool) -> dict:
    """Filters (bad values are ignored), one page of jobs, and whether the rows should keep refreshing."""
    names = _tool_names()
    status = request.GET.get("status", "")
    status = status if status in Job.Status.values else ""
    tool = request.GET.get("tool", "")
    tool = tool if tool in names else ""
    studio_id = None
    studios = []
    if staff:
        studio_text = request.GET.get("studio", "")
        studio_id = int(studio_text) if studio_text.isdigit() else None
        studios = list(portal_selectors.organizations_overview())
        if studio_id not in {s.pk for s in studios}:
            studio_id = None
    jobs = selectors.jobs_for_user(request.user, status=status, tool=tool, organization_id=studio_id)
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    for job in page.object_list:
        job.tool_name = names.get(job.tool_slug, job.tool_slug)
        job.time_left = time_left(job, now)
    filters = {k: v for k, v in (("status", status), ("tool", tool), ("studio", studio_id or "")) if v}
    query = urlencode(filters)
    rows_query = urlencode({**filters, "page": page.number})
    return {
        "page": page,
        "staff": staff,
        "status": status,
        "tool": tool,
        "studio_id": studio_id,
        "studios": studios,
        "statuses": Job.Status.choices,
        "tools": sorted(names.items(), key=lambda item: item[1]),
        "filtered": bool(filters),
        "query": query,
        "rows_url": f"{reverse('beta:job-list-rows')}?{rows_query}",
        "any_active": any(job.is_active for job in page.object_list),
    }


@partner_required
@require_GET
def job_list(request):
    return render(request, "beta/job_list.html", _list_context(request, staff=False))


@login_required
@require_GET
def job_list_rows(request):
    """The table body of either job list, for htmx to refresh while a shown job is active."""
    return render(request, "beta/_job_rows.html", _list_context(request, staff=request.user.is_studio_staff))


@staff_required
@require_GET
def staff_job_list(request):
    return render(request, "beta/job_list.html", _list_context(request, staff=True))


RECENT_JOBS = 5


def recent_jobs_context(user) -> dict:
    """The partner home's "Recent jobs": the studio's newest runs, refreshed while one of them is active."""
    names = _tool_names()
    now = timezone.now()
    jobs = list(selectors.jobs_for_user(user)[:RECENT_JOBS])
    rows = [
        {"job": job, "tool_name": names.get(job.tool_slug, job.tool_slug), "time_left": time_left(job, now)}
        for job in jobs
    ]
    return {"recent_jobs": rows, "any_active": any(job.is_active for job in jobs)}


@partner_required
@require_GET
def job_recent(request):
    """The partner home's recent jobs, for htmx to refresh while one is active."""
    return render(request, "beta/_recent_jobs.html", recent_jobs_context(request.user))


# --- One job ----------------------------------------------------------------------------------------------------------
def _live_context(job: Job) -> dict:
    lines = job.log.rstrip("\n").splitlines()[-LOG_TAIL_LINES:] if job.log else []
    return {"job": job, "time_left": time_left(job), "log_tail": "\n".join(lines), "log_line_count": len(lines)}


def _output_view(output) -> dict:
    """One output as the job page shows it: a preview where the browser can show one, and always a download."""
    asset = output.asset
    renditions = {r.kind for r in asset.renditions.all()}
    download_url = reverse("assets:download", args=[asset.pk])
    preview = None
    if asset.kind == "video":
        preview = {
            "type": "video",
            "src": reverse("assets:rendition", args=[asset.pk, "proxy"]) if "proxy" in renditions else download_url,
            "poster": reverse("assets:rendition", args=[asset.pk, "poster"]) if "poster" in renditions else "",
        }
    elif asset.kind == "image":
        thumbnail = "thumbnail" in renditions
        preview = {
            "type": "image",
            "src": reverse("assets:rendition", args=[asset.pk, "thumbnail"]) if thumbnail else download_url,
        }
    return {
        "output": output,
        "asset": asset,
        "preview": preview,
        "download_url": download_url,
        "provenance": "C2PA manifest embedded" if output.provenance_embedded else "sidecar",
        "compare": compare_links(output) if preview else [],
    }


def _parameter_rows(job: Job, tool) -> list[dict]:
    properties = (tool.parameters or {}).get("properties", {}) if tool else {}
    rows = []
    for name, value in (job.parameters or {}).items():
        prop = properties.get(name, {})
        label = prop.get("title") or name.replace("_", " ").capitalize()
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        rows.append({"name": name, "label": label, "value": value})
    return rows


def _shots(job, outputs: list[dict]) -> list[dict]:
    """The shots of the job's summary with their thumbnail outputs, then any shot output the summary does not name."""
    shot_outputs = {o["output"].role: o for o in outputs if o["output"].role.startswith("shot-")}
    shots = [
        {**shot, "view": shot_outputs.pop(str(shot.get("thumbnail_role", "")), None)}
        for shot in (job.summary or {}).get("shots") or []
        if isinstance(shot, dict)
    ]
    shots += [{"number": role.removeprefix("shot-").lstrip("0"), "view": view} for role, view in shot_outputs.items()]
    return shots


@login_required
@require_GET
def job_detail(request, job_id):
    job = get_object_or_404(selectors.jobs_for_user(request.user), pk=job_id)
    tool = catalogue_registry.get_tool(job.tool_slug)
    outputs = [_output_view(o) for o in selectors.job_outputs(job)]
    shots = _shots(job, outputs)
    shown_as_shots = {id(s["view"]) for s in shots if s["view"]}
    others = [o for o in outputs if id(o) not in shown_as_shots]
    results_template = _results_template(job.tool_slug)
    inputs = list(job.job_inputs.select_related("asset", "asset__lineage_root").prefetch_related("asset__renditions"))
    outputs_by_role = {o["output"].role: o for o in outputs if o["output"].role}
    permissions = _permissions(request.user, job)
    results = results_context(job, tool, inputs, outputs_by_role, can_rerun=permissions["can_retry"])
    played = results.get("played_roles", set())  # the results panel plays these: listed as files below it
    return render(
        request,
        "beta/job_detail.html",
        {
            **_live_context(job),
            "tool": tool,
            "tool_name": tool.name if tool else job.tool_slug,
            "inputs": inputs,
            "input_media": _input_media(inputs),
            "parameters": _parameter_rows(job, tool),
            "shots": shots,
            "media_outputs": [o for o in others if o["preview"] and o["output"].role not in played],
            "file_outputs": [o for o in others if not o["preview"] or o["output"].role in played],
            "output_count": len(outputs),
            "outputs_by_role": outputs_by_role,
            "results_template": results_template,
            "results": results,
            "feedback": feedback_selectors.feedback_slot(request.user, job),
            **permissions,
            "back_url": reverse("beta:staff-jobs" if request.user.is_studio_staff else "beta:job-list"),
        },
    )


#: Files a browser plays as they are, when an input has no web proxy (sound files have none).
PLAYABLE_AUDIO_TYPES = {"audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/aac", "audio/ogg", "audio/opus", "audio/webm",
                        "audio/wav", "audio/x-wav", "audio/wave", "audio/flac", "audio/x-flac"}  # fmt: skip
PLAYABLE_VIDEO_TYPES = {"video/mp4", "video/webm"}
PLAYABLE_VIDEO_CODECS = {"h264", "vp8", "vp9", "av1"}
#: A subtitle track is read whole into memory: WebVTT for a feature is a few hundred kB.
MAX_TRACK_BYTES = 5 * 1024 * 1024


def _input_media(inputs) -> dict | None:
    """The first video or sound input as the job page can play it: the web proxy, else the file itself when a
    browser plays it as it is; None when neither (a tool's results template shows its outputs against it)."""
    for job_input in inputs:
        asset = job_input.asset
        if asset.kind not in ("video", "audio") or asset.status != "ready":
            continue
        renditions = {r.kind for r in asset.renditions.all()}
        poster = reverse("assets:rendition", args=[asset.pk, "poster"]) if "poster" in renditions else ""
        if asset.kind == "video" and "proxy" in renditions:
            src = reverse("assets:rendition", args=[asset.pk, "proxy"])
        elif (asset.kind == "audio" and asset.content_type in PLAYABLE_AUDIO_TYPES) or (
            asset.content_type in PLAYABLE_VIDEO_TYPES and asset.video_codec in PLAYABLE_VIDEO_CODECS
        ):
            src = reverse("assets:download", args=[asset.pk])
        else:
            continue
        return {"type": asset.kind, "src": src, "poster": poster, "asset": asset}
    return None


def _results_template(tool_slug: str) -> str | None:
    """A tool may show its results in place with `beta/results/<slug>.html` (given `job`, `tool`, `outputs_by_role`)."""
    name = f"beta/results/{tool_slug}.html"
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


@login_required
@require_GET
@not_for_training
def job_subtitles(request, job_id):
    """The job's WebVTT subtitles (its output with role "vtt") from this origin, as text/vtt, for a <track>: a
    player loads a track only from its own origin (without CORS), so no redirect to presigned storage URLs here."""
    job = _job(request, job_id)
    output = (
        job.job_outputs.select_related("asset")
        .filter(role="vtt", asset__status="ready", asset__content_type="text/vtt")
        .order_by("id")
        .first()
    )
    if output is None:
        raise Http404
    try:
        with get_store().open(output.asset.storage_key) as handle:
            data = handle.read(MAX_TRACK_BYTES + 1)
    except (OSError, StorageError) as exc:
        raise Http404("The stored file is missing.") from exc
    if len(data) > MAX_TRACK_BYTES:
        raise Http404("The subtitles are too large to show here; download them instead.")
    response = HttpResponse(data, content_type="text/vtt; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def job_live(request, job_id):
    """The live block (htmx polls it every 2 s while the job is active). When the job has just finished, ask the
    browser to reload the page (`HX-Refresh`) so the outputs and the right buttons appear."""
    job = _job(request, job_id)
    response = render(request, "beta/_job_live.html", {**_live_context(job), "oob": True})
    if request.GET.get("was") == "active" and not job.is_active:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def job_cancel(request, job_id):
    job = _job(request, job_id)
    try:
        job = control.job_cancel(actor=request.user, job=job, request=request)
    except (JobError, PermissionDeniedError) as exc:
        messages.error(request, str(exc))
    else:
        if job.status == Job.Status.CANCELED:
            messages.success(request, f"Job {job.pk} is canceled.")
        else:
            messages.info(request, f"Canceling job {job.pk}: the tool stops at its next progress report.")
    return redirect("beta:job-detail", job_id=job.pk)


@login_required
@require_POST
def job_retry(request, job_id):
    job = _job(request, job_id)
    try:
        new_job = control.job_retry(actor=request.user, job=job, request=request)
    except (JobError, PermissionDeniedError) as exc:
        messages.error(request, str(exc))
        return redirect("beta:job-detail", job_id=job.pk)
    messages.success(request, f"Running again as job {new_job.pk}, with the same files and parameters.")
    return redirect("beta:job-detail", job_id=new_job.pk)

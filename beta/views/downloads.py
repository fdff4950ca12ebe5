""""Download with provenance": a job's outputs in one zip, each beside its `.c2pa` sidecar and JSON summary.

Each output is read through `asset_download` (so the studio's access log records it, as a single download would be)
and written under its name in the job; `<name>.c2pa` is its signed C2PA manifest store, which a C2PA reader
validates against the file, and `<name>.provenance.json` the portal's plain summary. The zip is built in a
temporary file (outputs can be large video) that goes when the response is closed.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from assets.provenance import MANIFEST_SUFFIX, SIDECAR_SUFFIX
from assets.services import asset_download
from assets.storage import StorageError, get_store
from beta import selectors
from portal.errors import PortalError
from portal.tdm import not_for_training


def job_outputs_zip_write(*, actor, job, request, destination) -> int:
    """Write the job's outputs with their sidecars into the zip file `destination`; return how many outputs."""
    store, written = get_store(), 0
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for output in selectors.job_outputs(job):
            asset = output.asset
            try:
                asset_download(actor=actor, asset=asset, request=request)  # audited as a download
            except PortalError:
                continue
            name = output.name or asset.original_filename
            parts = [(asset.storage_key, name), (output.manifest_key, name + MANIFEST_SUFFIX),
                     (output.provenance_key, name + SIDECAR_SUFFIX)]  # fmt: skip
            for key, member in parts:
                if not key:
                    continue
                try:
                    with store.open(key) as source, archive.open(member, "w", force_zip64=True) as target:
                        shutil.copyfileobj(source, target, 1024 * 1024)
                except (OSError, StorageError) as exc:
                    raise Http404(f"A stored file of this job is missing: {member}") from exc
            written += 1
    return written


@login_required
@require_GET
@not_for_training
def job_outputs_zip(request, job_id):
    job = get_object_or_404(selectors.jobs_for_user(request.user), pk=job_id)
    spool = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115 (closed by the response)
    try:
        if not job_outputs_zip_write(actor=request.user, job=job, request=request, destination=spool):
            raise Http404("This job has no outputs to download.")
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return FileResponse(
        spool, as_attachment=True, filename=f"job-{job.pk}-outputs-with-provenance.zip", content_type="application/zip"
    )

"""The `.c2pa` sidecar of a tool output: its signed C2PA manifest store, offered beside every download.

A C2PA reader given the file and this sidecar validates the file's bytes against the signature (for formats that
embed the manifest, the sidecar is the same store the file carries). Fetched through `for_user`: another studio's
output is a 404.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from assets import services
from assets.provenance import MANIFEST_CONTENT_TYPE, MANIFEST_SUFFIX
from assets.storage import content_disposition
from assets.views.library import _asset
from portal.tdm import not_for_training


@login_required
@require_GET
@not_for_training
def manifest_download(request, asset_id):
    asset = _asset(request, asset_id)
    data = services.asset_manifest_read(asset=asset)
    if data is None:
        raise Http404("This file has no C2PA sidecar.")
    response = HttpResponse(data, content_type=MANIFEST_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition("attachment", f"{asset.original_filename}{MANIFEST_SUFFIX}")
    return response

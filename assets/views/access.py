"""The studio's access log: every read of its material (previews, downloads, tool runs, API reads, staff access),
from the audit trail. Per asset for the studio's members; studio-wide for its owners. Another studio's asset: 404."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from assets import selectors
from assets.views.library import _asset
from portal import selectors as portal_selectors
from portal.decorators import partner_required
from portal.models import Membership

PAGE_SIZE = 50


def _page(request, events, organization):
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return page, selectors.access_entries(page.object_list, organization=organization)


@partner_required
@require_GET
def asset_access_log(request, asset_id):
    asset = _asset(request, asset_id)
    page, entries = _page(request, selectors.access_log(organization=asset.organization, asset=asset),
                          asset.organization)
    return render(request, "assets/access_log.html", {"asset": asset, "page_obj": page, "entries": entries})


@partner_required
@require_GET
def studio_access_log(request):
    membership = portal_selectors.membership_for_user(request.user)
    if membership is None or membership.role != Membership.Role.OWNER:
        raise Http404("The studio's access log is for its owners.")
    organization = membership.organization
    page, entries = _page(request, selectors.access_log(organization=organization), organization)
    return render(request, "assets/access_log.html",
                  {"organization": organization, "page_obj": page, "entries": entries, "show_asset": True})

"""The staff console's agreement pages: draft a version, preview it, publish it, and see who accepted which.

Reviewers read these pages; only programme admins draft and publish (anyone else's POST is a 404, as on the other
staff pages). Writes go through `portal.services.agreements`, which audits them.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portal import selectors
from portal.decorators import admin_required, staff_required
from portal.errors import PortalError
from portal.forms.console import AgreementDraftForm
from portal.models import AgreementVersion
from portal.services.agreements import agreement_draft_save, agreement_publish


def _admin_form(request, draft: AgreementVersion | None) -> AgreementDraftForm | None:
    """The draft form for admins (bound on POST); None for reviewers, whose POST is refused."""
    if not request.user.is_programme_admin:
        if request.method == "POST":
            raise Http404
        return None
    return AgreementDraftForm.for_draft(draft, data=request.POST if request.method == "POST" else None)


def _save(request, form: AgreementDraftForm, draft: AgreementVersion | None) -> AgreementVersion | None:
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return agreement_draft_save(actor=request.user, draft=draft, request=request, **form.cleaned_data)
    except PortalError as exc:
        form.add_error(None, str(exc))
        return None


@staff_required
def agreement_list(request):
    """Every version with its acceptances; admins start a new draft here."""
    form = _admin_form(request, None)
    if form is not None and (saved := _save(request, form, None)) is not None:
        messages.success(request, f"Draft version {saved.version} was saved. Preview it, then publish it.")
        return redirect("portal:staff-agreement", agreementversion_id=saved.pk)
    current = selectors.current_agreement()
    context = {
        "versions": selectors.agreement_versions(),
        "current": current,
        "yet_to_accept": selectors.partners_yet_to_accept(current).count() if current else 0,
        "form": form,
    }
    return render(request, "portal/console/agreements.html", context, status=400 if form and form.errors else 200)


@staff_required
def agreement_detail(request, agreementversion_id):
    """One version as partners will read it; a draft can be changed (admins), a published one shows who accepted."""
    version = get_object_or_404(AgreementVersion, pk=agreementversion_id)  # programme-wide, not partner-owned
    form = _admin_form(request, version) if version.published_at is None else None
    if form is None and request.method == "POST":
        raise Http404
    if form is not None and (saved := _save(request, form, version)) is not None:
        messages.success(request, f"Draft version {saved.version} was saved.")
        return redirect("portal:staff-agreement", agreementversion_id=saved.pk)
    current = selectors.current_agreement()
    is_current = current is not None and current.pk == version.pk
    context = {
        "version": version,
        "is_current": is_current,
        "acceptances": selectors.agreement_acceptances(version) if version.published_at else [],
        "yet_to_accept": selectors.partners_yet_to_accept(version) if is_current else [],
        "form": form,
    }
    return render(request, "portal/console/agreement.html", context, status=400 if form and form.errors else 200)


@admin_required
@require_POST
def agreement_publish_view(request, agreementversion_id):
    version = get_object_or_404(AgreementVersion, pk=agreementversion_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm that every partner must accept this version again.")
        return redirect("portal:staff-agreement", agreementversion_id=version.pk)
    try:
        agreement_publish(actor=request.user, version=version, request=request)
    except PortalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Version {version.version} is published. Every partner is asked to accept it at their next visit."
        )
    return redirect("portal:staff-agreement", agreementversion_id=version.pk)

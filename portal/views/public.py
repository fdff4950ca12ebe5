from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from portal import tdm


def landing(request):
    """What a signed-out visitor sees: the closed beta, and the way in."""
    if request.user.is_authenticated:
        return redirect("portal:home")
    return render(request, "portal/landing.html")


@login_required
def home(request):
    if request.user.is_studio_staff:
        return redirect("portal:staff-home")
    return redirect("portal:dashboard")


# --- Not for training (W3C TDMRep) ---------------------------------------------------------------------------------
@require_GET
def tdm_policy(request):
    """The human-readable policy that `tdm-policy` headers and /.well-known/tdmrep.json point at."""
    return render(request, "portal/tdm_policy.html", {"policy_url": tdm.policy_url()})


@require_GET
def tdmrep_json(request):
    """TDMRep's well-known file: every path of this site is reserved, with the policy's address."""
    body = [{"location": "/*", "tdm-reservation": 1, "tdm-policy": tdm.policy_url()}]
    return JsonResponse(body, safe=False, json_dumps_params={"indent": 2})


@require_GET
def robots_txt(request):
    """A closed beta: nothing here is for crawlers, search engines or AI training crawlers."""
    text = (
        "# Closed beta portal: nothing here may be crawled, indexed, mined or used to train AI.\n"
        f"# Policy: {tdm.policy_url()}\n"
        "User-agent: *\n"
        "Disallow: /\n"
    )
    return HttpResponse(text, content_type="text/plain; charset=utf-8")

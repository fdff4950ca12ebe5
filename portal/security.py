"""Browser-side hardening that applies to every page: signed-in HTML is never stored by a browser or proxy cache
(a shared computer's back button, a proxy that ignores Vary: Cookie). The Content-Security-Policy is django-csp's
middleware, configured in settings (CONTENT_SECURITY_POLICY)."""

from django.utils.cache import patch_cache_control


class SignedInNoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        html = response.get("Content-Type", "").startswith("text/html")
        if html and user is not None and user.is_authenticated and "no-store" not in response.get("Cache-Control", ""):
            if "Cache-Control" in response:
                del response["Cache-Control"]  # no-store must not sit beside an earlier max-age or public
            patch_cache_control(response, no_store=True, private=True)
        return response

"""The Django admin behind allauth's sign-in: no password form of its own, and only sessions that passed MFA.

Django's admin login checks a password and logs the person in; that path skipped the second factor, the rate limits
and the audit trail. Here /django-admin/login/ only ever redirects: to allauth's sign-in (allauth's
`secure_admin_login`) when signed out, to the admin when signed in with a second factor.
"""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme

from portal.signin import session_lacks_second_factor


class PortalAdminSite(admin.AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and not session_lacks_second_factor(request, request.user)

    @method_decorator(secure_admin_login)
    def login(self, request, extra_context=None):
        # Reached only by a signed-in, active `is_staff` person (secure_admin_login sends anyone else to allauth).
        if not self.has_permission(request):
            raise PermissionDenied
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = ""
        return redirect(next_url or "admin:index")

"""django.contrib.admin with the portal's admin site (portal/admin_site.py): sign-in through allauth, with MFA."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin_site.PortalAdminSite"

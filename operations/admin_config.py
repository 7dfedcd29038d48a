"""django.contrib.admin's app config with our site (no model imports here: loaded early)."""

from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    default_site = "operations.admin_site.PlatformAdminSite"

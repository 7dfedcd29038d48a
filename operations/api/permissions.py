from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, IsAdminUser


class StaffWithModelPermissions(IsAdminUser):
    """Staff read; a change also needs the Django model permission, as in the admin.

    A view lists what each unsafe method needs in `required_perms`.
    """

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        return request.user.has_perms(getattr(view, "required_perms", {}).get(request.method, ()))

"""Only a call authenticated with a usable partner key reaches a partner endpoint."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from families.models import PartnerAPIKey


class IsPartner(BasePermission):
    """A browser's session or log-in grants nothing here: only an organisation's key."""

    def has_permission(self, request: Request, view: object) -> bool:
        return isinstance(request.auth, PartnerAPIKey)

"""A partner organisation's API key, sent as ``Authorization: Api-Key <key>``.

Keys are stored hashed (``PartnerAPIKey``); a call with a revoked or expired key, or
one whose organisation or member is no longer active, is refused and still recorded
in the audit log against the key's organisation (``families.partners.api.views``). Calls with
unknown, revoked or expired keys are counted per address (``RATE_LIMITS["api_key_refused"]``);
past that budget they are refused with 429 before anything is recorded. A usable key
is never refused for its address.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request

from families.models import PartnerAPIKey, User
from families.partners.selectors import partner_key_from
from reunion.ratelimits import count_over

KEYWORD = "Api-Key"
#: Calls with keys that are refused, per address.
REFUSED_KEYS_RATE = "api_key_refused"


class PartnerKeyAuthentication(BaseAuthentication):
    """Authenticates a call as the member its organisation's key acts for."""

    def authenticate(self, request: Request) -> tuple[User, PartnerAPIKey] | None:
        keyword, _space, raw_key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if not keyword:
            return None
        if keyword.lower() != KEYWORD.lower():
            # A "Bearer" or "Token" of another API's habits: say which header is expected.
            raise AuthenticationFailed(
                _("This API takes no \"%(scheme)s\" credentials. Send your organisation's key "
                  "in the header \"Authorization: Api-Key <key>\".") % {"scheme": keyword[:20]},
                code="wrong_scheme")
        key = partner_key_from(raw_key.strip())
        if (key is None or not key.usable()) and count_over(
            request._request, REFUSED_KEYS_RATE, key="ip"
        ):
            # Past the address's budget of refused keys: not even recorded, so that
            # guessing keys fills neither the audit log nor the database's time.
            raise Throttled(detail=_("Too many calls with keys that are not valid."))
        if key is None:
            raise AuthenticationFailed(_("This API key is not valid."), code="key_not_valid")
        # Seen, so that the refused call too is recorded against its organisation.
        request.partner_key_seen = key
        if not key.usable():
            raise AuthenticationFailed(
                _("This API key is revoked or expired, or its organisation no longer uses it."),
                code="key_revoked",
            )
        return key.member, key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    """How the schema describes the key."""

    target_class = "families.partners.api.authentication.PartnerKeyAuthentication"
    name = "partnerKey"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "Send the header in full: `Authorization: Api-Key <key>`, the key an admin "
                "created for your organisation (`Bearer` is refused with 401)."),
        }

"""What the OpenAPI schema says beyond what drf-spectacular reads from the views: the
error shape (``families.partners.api.errors``) on every status an operation may answer, an
example for each operation, and where the API is served (``servers``).

``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]`` runs ``document_errors`` last.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

ERROR_COMPONENT = {
    "type": "object",
    "description": "Every error of the API, whatever its status.",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string", "description": "Stable, for programs.",
                     "example": "invalid"},
            "message": {"type": "string",
                        "description": "For people, in the language asked for "
                                       "(Accept-Language: en or zh-Hans)."},
            "fields": {"type": "object", "additionalProperties": True,
                       "description": "Each refused field and why (empty when none)."},
        },
    }},
}

#: Why each status is answered, as the schema says it.
STATUSES = {
    "400": "The request is not valid: `fields` names each refused field.",
    "401": "No key, or not a usable one: send `Authorization: Api-Key <key>`.",
    "404": "No such posting of your organisation's, or a page past the last.",
    "413": "The body is larger than a photo may be.",
    "415": "Not the media type the endpoint reads (JSON; a photo as multipart/form-data).",
    "429": "Past the key's budget: `Retry-After` says in how many seconds to call again.",
    "500": "A fault of Reunion's, logged: try again later.",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"},
                               "description": "Seconds until the key's next call."}}

PERSON = {"reference": "HS-1988-014", "display_name": "Xiao Hong", "sex": "female",
          "birth_year_min": 1984, "birth_year_max": 1986, "grew_up_province": "Hebei",
          "memories": "A red door and a river."}
#: A request body's example by operation.
REQUEST_EXAMPLES = {
    "postings_create": PERSON,
    "postings_partial_update": {"memories": "A red door, a river and a stone bridge."},
}


def _error_example(status: str) -> dict[str, Any]:
    code = {"400": "invalid", "401": "not_authenticated", "404": "not_found",
            "413": "too_large", "415": "unsupported_media_type", "429": "throttled",
            "500": "server_error"}[status]
    fields = {"sex": ["\"x\" is not a valid choice."]} if status == "400" else {}
    return {"error": {"code": code, "message": STATUSES[status], "fields": fields}}


def _one_blank_text(field: dict[str, Any]) -> dict[str, Any]:
    """A text that may be blank and has a pattern, as one schema: drf-spectacular writes
    ``oneOf`` [the pattern, the empty string], which "" matches twice (so no ``oneOf``
    holds); the pattern (no control characters) takes "" already."""
    one_of = field.get("oneOf")
    if not one_of or len(one_of) != 2 or one_of[1] != {"type": "string", "maxLength": 0}:
        return field
    text = one_of[0]
    if "pattern" not in text or not text["pattern"].endswith("]*$") or "format" in text:
        return field
    merged = {key: value for key, value in field.items() if key != "oneOf"}
    return {**merged, **text}


def document_errors(result: dict[str, Any], generator: Any, request: Any,
                    public: bool) -> dict[str, Any]:
    """Adds the error component and its statuses, the examples and ``servers``."""
    components = result.setdefault("components", {})
    for component in components.get("schemas", {}).values():
        for name, field in component.get("properties", {}).items():
            component["properties"][name] = _one_blank_text(field)
    components.setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    result["servers"] = [{"url": settings.SITE_URL.rstrip("/"),
                          "description": "This portal"}]
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            statuses = ["401", "404", "429", "500"]
            if method in ("post", "patch", "put") or operation.get("parameters"):
                statuses.append("400")
            if method in ("post", "patch", "put"):
                statuses += ["413", "415"]
            for status in statuses:
                answer = responses.setdefault(status, {"description": STATUSES[status]})
                answer["content"] = {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"},
                    "example": _error_example(status)}}
                if status == "429":
                    answer["headers"] = RETRY_AFTER
            example = REQUEST_EXAMPLES.get(operation.get("operationId", ""))
            body = operation.get("requestBody", {}).get("content", {})
            if example is not None and "application/json" in body:
                body["application/json"]["example"] = example
            for status, answer in responses.items():
                if status.startswith("2"):
                    answer.setdefault("description", "Done.")
    return result

"""drf-spectacular hook: document the error envelope on every operation.

Every operation can answer a 4xx in the one envelope shape (validation, auth, not found,
rate limit), so the schema says so with a "4XX" response, and a 503 with Retry-After when
the database can't be reached; clients and schemathesis then know the shape of every answer.
"""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "request_id"],
            "properties": {
                "code": {"type": "string", "example": "not_found"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": True},
                "request_id": {"type": "string", "nullable": True},
            },
        }
    },
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error_response = {
        "description": "Error (see `error.code`)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    unavailable_response = {
        "description": "The database can't be reached right now (`service_unavailable`): "
        "try again after `Retry-After` seconds.",
        "headers": {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
        },
        "content": error_response["content"],
    }
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("4XX", error_response)
            responses.setdefault("503", unavailable_response)  # /health/ready has its own
    return result

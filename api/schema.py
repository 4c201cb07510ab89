"""What drf-spectacular cannot see for itself: how the API authenticates, and the
one shape every error has."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "What went wrong, in a sentence."},
        "fields": {
            "type": "object",
            "additionalProperties": True,
            "description": "By field, why it was refused.",
        },
        "allowed": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["error"],
    "additionalProperties": True,
}
ERRORS = {
    "400": "The request was not accepted; see fields.",
    "401": "No API key, or an unknown or revoked one.",
    "403": "The key's user may not do this.",
    "404": "Nothing is there.",
    "405": "The method is not allowed here.",
    "409": "The object's state refuses the change.",
    "415": "The body is not JSON.",
    "429": "Too many writes in a minute; see Retry-After.",
}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (console: API › API tokens).",
        }


class ConsoleSessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ConsoleSessionAuthentication"
    name = "consoleSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


def error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Add the error shape, and the errors each operation may answer, to the schema
    (a postprocessing hook)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ["400", "401", "403", "404", "405", "415"]
            if method != "get":
                codes += ["409", "429"]
            for code in codes:
                operation["responses"].setdefault(
                    code,
                    {
                        "description": ERRORS[code],
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Error"}
                            }
                        },
                    },
                )
    return result

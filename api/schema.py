"""OpenAPI: every operation documents its problem+json errors, and API keys are a bearer scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

PROBLEM_MEDIA_TYPE = "application/problem+json"
#: Errors any operation may answer (authentication, scope, throttling, limits), and those that depend on it.
COMMON_ERRORS = ("400", "401", "403", "404", "406", "413", "415", "429")


class ProblemAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        from api.serializers import ProblemSerializer

        responses = super()._get_response_bodies(direction)
        codes = [*COMMON_ERRORS, *getattr(self.view, "extra_problem_codes", ())]
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            codes.append("405")
        for code in sorted(set(codes)):
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ProblemSerializer, code, media_types=[PROBLEM_MEDIA_TYPE], direction=direction
                )
                responses[code]["description"] = "A problem (RFC 9457)."
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "gl_live_<8 hex>_<secret>",
            "description": "A studio's API key, created by an owner on the API keys page.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "The portal's own pages (a signed-in browser; unsafe methods need the CSRF token)."}

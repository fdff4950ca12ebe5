"""How the API knows who is calling: `Authorization: Bearer <API key>`, or the browser's session (with CSRF)."""

from rest_framework import authentication, exceptions

from api import services
from api.errors import ApiKeyError, ApiKeyStudioClosedError
from portal.signin import session_lacks_second_factor


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """A studio's API key. `request.user` is the key's creator (the services' actor); `request.auth` is the key."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, raw_key = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        raw_key = raw_key.strip()
        if not raw_key or " " in raw_key:
            raise exceptions.AuthenticationFailed("The Authorization header must be `Bearer <API key>`.")
        try:
            key = services.api_key_authenticate(raw_key=raw_key)
        except ApiKeyStudioClosedError as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except ApiKeyError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        services.api_key_record_use(key=key, request=request)
        return key.created_by, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The pages' own calls: the signed-in person, with Django's CSRF check on unsafe methods.

    Only a complete sign-in counts: a session that did not pass the second factor of someone who has or needs one
    (all staff) is refused, whatever view or middleware order lets it this far.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and session_lacks_second_factor(request._request, result[0]):
            raise exceptions.AuthenticationFailed(
                "Sign in through the portal with your second factor, or use an API key."
            )
        return result

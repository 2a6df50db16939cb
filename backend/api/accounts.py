"""Authentication and the caller's own profile."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import ApiToken
from backend.accounts.selectors import substituted_users, user_roles
from backend.accounts.services import api_token_issue, api_token_revoke
from backend.api.throttling import AddressThrottle
from backend.core.exceptions import ApplicationError, ValidationFailed
from backend.core.http import authenticated_user


class TooManyAttempts(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


class TokenObtainApi(APIView):
    """Exchange a username and password for an API token (shown once)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [AddressThrottle]
    throttle_scope = "login"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request=request._request, **data.validated_data)
        if getattr(request._request, "axes_locked_out", False):
            raise TooManyAttempts(_("Too many failed attempts. Try again in 15 minutes."))
        if user is None:
            raise ValidationFailed(
                _("Wrong username or password."),
                code="bad_credentials",
                fields={"password": [_("Wrong username or password.")]},
            )
        return Response({"token": api_token_issue(user=user)}, status=status.HTTP_201_CREATED)


class LogoutApi(APIView):
    """Revoke the API token this request is authenticated with (log the client out)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        authenticated_user(request)
        if not isinstance(request.auth, ApiToken):
            raise ValidationFailed(_("Log out with the API token you want to revoke."), code="no_token")
        api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleSerializer(serializers.Serializer):
    role = serializers.CharField()
    role_display = serializers.CharField(source="get_role_display")
    org_unit = serializers.CharField(source="org_unit.code")
    org_unit_name = serializers.CharField(source="org_unit.name")
    is_deputy = serializers.BooleanField()


class MeApi(APIView):
    """The caller: name, language and current roles (with the people they substitute)."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        full_name = serializers.CharField()
        email = serializers.EmailField()
        language = serializers.CharField()
        roles = RoleSerializer(many=True)
        substituting = serializers.ListField(child=serializers.CharField())

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        user = authenticated_user(request)
        return Response(
            {
                "id": user.pk,
                "username": user.username,
                "full_name": user.full_name,
                "email": user.email,
                "language": user.language,
                "roles": RoleSerializer(user_roles(user), many=True).data,
                "substituting": [u.full_name for u in substituted_users(user)],
            }
        )

"""Accounts HTTP endpoints: thin — validate, call a service, serialize."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import password_reset, services, verification
from taskplatform.api.caller import caller
from taskplatform.api.throttling import (
    AccountMailRateThrottle,
    AccountTokenRateThrottle,
    ApiRateThrottle,
    LoginRateThrottle,
    RegisterRateThrottle,
)

from .serializers import (
    ChangePasswordSerializer,
    DetailSerializer,
    EmailSerializer,
    LoginSerializer,
    PasswordResetConfirmSerializer,
    ProfileUpdateSerializer,
    RefreshSerializer,
    RegisterSerializer,
    ResendVerificationSerializer,
    TokenPairSerializer,
    TokenSerializer,
    UserSerializer,
)

TAGS = ["auth"]
# the same words whether or not the address has an account: nothing tells which
REGISTERED = "Check your inbox: we have emailed this address with the next step."
VERIFICATION_SENT = (
    "If this address has an account waiting for verification, a new verification email is "
    "on its way."
)
RESET_SENT = "If this address has an account, an email with the next step is on its way."
VERIFIED = "Your email address is verified."


class NoStoreView(APIView):
    """Responses that carry tokens must never be cached (RFC 6749 §5.1), by a browser or a
    proxy: `Cache-Control: no-store` and, for HTTP/1.0 caches, `Pragma: no-cache`."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ApiRateThrottle, RegisterRateThrottle]

    @extend_schema(request=RegisterSerializer, responses={202: DetailSerializer}, tags=TAGS)
    def post(self, request):
        services.user_register(**_valid(RegisterSerializer, request))
        return Response({"detail": REGISTERED}, status=status.HTTP_202_ACCEPTED)


class VerifyEmailView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ApiRateThrottle, AccountTokenRateThrottle]

    @extend_schema(request=TokenSerializer, responses={200: DetailSerializer}, tags=TAGS)
    def post(self, request):
        verification.email_verification_confirm(**_valid(TokenSerializer, request))
        return Response({"detail": VERIFIED})


class ResendVerificationView(APIView):
    """Anonymous with `{"email"}`, or signed in with no body (the caller's address)."""

    permission_classes = [AllowAny]
    throttle_classes = [ApiRateThrottle, AccountMailRateThrottle]

    @extend_schema(
        request=ResendVerificationSerializer, responses={202: DetailSerializer}, tags=TAGS
    )
    def post(self, request):
        email = _valid(ResendVerificationSerializer, request).get("email")
        if email is None:
            if not request.user.is_authenticated:
                raise ValidationError({"email": ["This field is required."]})
            email = caller(request).email
        verification.email_verification_resend(email=email)
        return Response({"detail": VERIFICATION_SENT}, status=status.HTTP_202_ACCEPTED)


class PasswordResetView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ApiRateThrottle, AccountMailRateThrottle]

    @extend_schema(request=EmailSerializer, responses={202: DetailSerializer}, tags=TAGS)
    def post(self, request):
        password_reset.password_reset_request(**_valid(EmailSerializer, request))
        return Response({"detail": RESET_SENT}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ApiRateThrottle, AccountTokenRateThrottle]

    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None}, tags=TAGS)
    def post(self, request):
        password_reset.password_reset_confirm(**_valid(PasswordResetConfirmSerializer, request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LoginView(NoStoreView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ApiRateThrottle, LoginRateThrottle]

    @extend_schema(request=LoginSerializer, responses={200: TokenPairSerializer}, tags=TAGS)
    def post(self, request):
        tokens = services.user_login(**_valid(LoginSerializer, request), request=request)
        return Response(tokens)


class RefreshView(NoStoreView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=RefreshSerializer, responses={200: TokenPairSerializer}, tags=TAGS)
    def post(self, request):
        return Response(services.token_refresh(**_valid(RefreshSerializer, request)))


class LogoutView(APIView):
    @extend_schema(request=RefreshSerializer, responses={204: None}, tags=TAGS)
    def post(self, request):
        services.user_logout(user=caller(request), **_valid(RefreshSerializer, request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    http_method_names = ["get", "patch", "options"]

    @extend_schema(responses={200: UserSerializer}, tags=TAGS)
    def get(self, request):
        return Response(UserSerializer(caller(request)).data)

    @extend_schema(request=ProfileUpdateSerializer, responses={200: UserSerializer}, tags=TAGS)
    def patch(self, request):
        changes = _valid(ProfileUpdateSerializer, request)
        user = services.user_profile_update(user=caller(request), actor=caller(request), **changes)
        return Response(UserSerializer(user).data)


class ChangePasswordView(APIView):
    @extend_schema(request=ChangePasswordSerializer, responses={204: None}, tags=TAGS)
    def post(self, request):
        services.user_password_change(
            user=caller(request), **_valid(ChangePasswordSerializer, request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

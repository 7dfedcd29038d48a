from rest_framework import serializers

from accounts.models import User
from accounts.validators import validate_timezone
from taskplatform.api.cached_fields import CachedFieldsMixin
from taskplatform.validators import validate_one_line


class UserSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    email_verified = serializers.BooleanField(
        read_only=True, help_text="Whether the owner has proved the address is theirs."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "email_verified",
            "full_name",
            "timezone",
            "is_staff",
            "date_joined",
        ]
        read_only_fields = ["id", "email", "is_staff", "date_joined"]


class ProfileUpdateSerializer(serializers.Serializer):
    full_name = serializers.CharField(
        max_length=150, allow_blank=True, required=False, validators=[validate_one_line]
    )
    timezone = serializers.CharField(
        max_length=64,
        required=False,
        validators=[validate_timezone],
        help_text="An IANA time zone name, e.g. `Europe/Paris`.",
    )


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    full_name = serializers.CharField(
        max_length=150, allow_blank=True, required=False, default="", validators=[validate_one_line]
    )


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField(default="Bearer")
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class ChangePasswordSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What happens next, in words.")


class EmailSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class ResendVerificationSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=254, required=False, help_text="Leave out when signed in: your address."
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1024, help_text="The `token` of the emailed link.")


class PasswordResetConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1024, help_text="The `token` of the emailed link.")
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)

from django.urls import reverse
from rest_framework import serializers

from files.models import StoredFile

SHA256_HEX = r"^[0-9a-fA-F]{64}$"


class FileSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = StoredFile
        fields = [
            "id",
            "name",
            "size",
            "content_type",
            "sha256",
            "created_at",
            "verified_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj: StoredFile) -> str:
        path = reverse("file-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class FileUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    sha256 = serializers.RegexField(
        SHA256_HEX,
        required=False,
        help_text="The SHA-256 you expect (hex); the upload is refused if the bytes differ.",
    )


class VerificationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="file.pk")
    sha256 = serializers.CharField(source="file.sha256", help_text="The digest on record.")
    ok = serializers.BooleanField()
    actual_sha256 = serializers.CharField(
        allow_null=True, help_text="The digest of the stored bytes now (null: blob missing)."
    )
    checked_at = serializers.DateTimeField()

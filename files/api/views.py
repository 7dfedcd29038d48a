"""Files HTTP endpoints. An upload streams in through files.uploads.upload_receive."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from files import services
from files.models import StoredFile
from files.selectors import file_list
from taskplatform.api.caller import caller

from .downloads import AnyAcceptNegotiation, file_download_response
from .filters import FileFilter
from .serializers import FileSerializer, FileUploadSerializer, VerificationSerializer
from .upload_form import upload_checked


class FileViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's files (staff: everyone's)."""

    queryset = StoredFile.objects.none()  # for the schema; requests use get_queryset
    serializer_class = FileSerializer
    filterset_class = FileFilter
    ordering_fields = ["created_at", "name", "size"]
    ordering = ["-created_at", "-id"]
    lookup_value_converter = "id"
    parser_classes = [MultiPartParser]  # documents uploads; files.uploads reads the body

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StoredFile.objects.none()
        return file_list(user=caller(self.request))

    @extend_schema(
        request={"multipart/form-data": FileUploadSerializer},
        responses={201: FileSerializer},
        description="Upload one file (multipart field `file`). Optional `sha256`: the upload "
        "is refused with `checksum_mismatch` if the bytes differ.",
    )
    def create(self, request):
        with upload_checked(request) as upload:
            stored = services.file_store(
                owner=caller(request),
                upload=upload.file,
                sha256=upload.sha256,
                head=upload.head,
                expected_sha256=upload.expected_sha256,
            )
        return Response(
            FileSerializer(stored, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    def perform_destroy(self, instance):
        services.file_delete(file=instance, actor=caller(self.request))

    @extend_schema(
        request=None,
        responses={
            (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The bytes."),
            (304, "*/*"): OpenApiResponse(description="Not modified (If-None-Match)."),
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAcceptNegotiation)
    def download(self, request, pk=None):
        return file_download_response(request, self.get_object())

    @extend_schema(request=None, responses={200: VerificationSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        verification = services.file_verify(file=self.get_object(), actor=caller(request))
        return Response(VerificationSerializer(verification).data)

"""Files HTTP endpoints. An upload streams in through files.uploads.upload_receive."""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpResponseBase, HttpResponseNotModified
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from files import services
from files.models import StoredFile
from files.selectors import file_list
from files.uploads import upload_receive
from taskplatform.api.caller import caller

from .filters import FileFilter
from .serializers import FileSerializer, FileUploadSerializer, VerificationSerializer


def _repr_digest(hex_digest: str) -> str:
    """RFC 9530 `Repr-Digest` value: `sha-256=:<base64 of the raw digest>:`."""
    return f"sha-256=:{base64.b64encode(bytes.fromhex(hex_digest)).decode()}:"


class AnyAcceptNegotiation(BaseContentNegotiation):
    """Downloads answer bytes whatever Accept says; errors are still JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


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
        # The body is read by files.uploads (streaming), never through request.data.
        received = upload_receive(request._request, max_bytes=settings.FILES_MAX_UPLOAD_BYTES)
        try:
            fields: dict[str, Any] = {"file": received.file}
            if received.expected_sha256 is not None:
                fields["sha256"] = received.expected_sha256
            form = FileUploadSerializer(data=fields)
            form.is_valid(raise_exception=True)
            stored = services.file_store(
                owner=caller(request),
                upload=form.validated_data["file"],  # received.file, now known to be there
                sha256=received.sha256,
                head=received.head,
                expected_sha256=form.validated_data.get("sha256"),
            )
        finally:
            received.close()
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
        stored = self.get_object()
        etag = f'"{stored.sha256}"'
        response: HttpResponseBase
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponseNotModified()
        else:
            blob = services.file_open(file=stored)
            response = FileResponse(
                blob, as_attachment=True, filename=stored.name, content_type=stored.content_type
            )
            response["Content-Length"] = str(stored.size)
            response["Repr-Digest"] = _repr_digest(stored.sha256)
        response["ETag"] = etag
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-cache"
        return response

    @extend_schema(request=None, responses={200: VerificationSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        verification = services.file_verify(file=self.get_object(), actor=caller(request))
        return Response(VerificationSerializer(verification).data)

"""The files page: the person's own files, their usage against the quota, uploads (streamed
and hashed by files.uploads, as the API's), downloads, verification and deletion.

Every action answers the `#files` region again (with a toast) for htmx, or redirects back to
the list for a plain form.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from files.downloads import file_download_response
from files.models import StoredFile
from files.selectors import file_bytes_used, file_list
from files.services import file_delete, file_store, file_verify
from taskplatform.exceptions import ApplicationError

from ..forms.files import UploadForm, upload_errors, upload_from
from .base import INVALID, PAGE_SIZE, SignedInRequest, htmx_target, is_htmx, signed_in, toast

# the region the page's htmx requests target, and every action answers again
REGION = "files"

_csrf = CsrfViewMiddleware(lambda request: HttpResponse())


def streamed_upload(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For a view whose multipart body files.uploads reads as it streams in.

    Django's CSRF middleware looks for the form's token field in request.POST, which parses
    the whole body first (into memory or a temporary file, unhashed); here the token is
    checked from the X-CSRFToken header alone (htmx sends it: base.html's hx-headers) before
    a byte of the body is read. So uploads need htmx; every other form works without it.
    """

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.POST = QueryDict()  # the body stays unread for the view
        refused = _csrf.process_view(request, None, (), {})  # type: ignore[arg-type]
        if refused is not None:
            return refused
        return view(request, *args, **kwargs)

    return wrapper


def _own_files(request: SignedInRequest) -> QuerySet[StoredFile]:
    # the person's own files (file_list shows staff everyone's: the API's admin view)
    return file_list(user=request.user).filter(owner=request.user)


def _own_file(request: SignedInRequest, pk: int) -> StoredFile:
    stored = _own_files(request).filter(pk=pk).first()
    if stored is None:
        raise Http404("No such file.")
    return stored


def _page_number(request: HttpRequest) -> str:
    return request.POST.get("page") or request.GET.get("page") or "1"


def _files_context(request: SignedInRequest, **extra: Any) -> dict[str, Any]:
    ordered = _own_files(request).order_by("-created_at", "-id")
    page = Paginator(ordered, PAGE_SIZE).get_page(_page_number(request))
    used, quota = file_bytes_used(owner=request.user), settings.FILES_USER_QUOTA_BYTES
    checked: dict[int, bool] = extra.pop("checked", {})
    files = list(page.object_list)
    for stored in files:  # a verification just done: its result on its row
        stored.check_result = checked.get(stored.pk)
    return {
        "page_obj": page,
        "files": files,
        "used": used,
        "quota": quota,
        "used_percent": min(100, round(used * 100 / quota)) if quota else None,
        "upload_form": UploadForm(),
        **extra,
    }


def _region(
    request: SignedInRequest, message: str, level: str = "success", status: int = 200, **extra: Any
) -> HttpResponse:
    """After an action: the `#files` region again with a toast (htmx), or back to the list."""
    if is_htmx(request):
        context = _files_context(request, **extra)
        response = render(request, "web/files/_files.html", context, status=status)
        return toast(response, message, level) if message else response
    if status != 200:
        context = _files_context(request, **extra)
        return render(request, "web/files/list.html", context, status=status)
    getattr(messages, level)(request, message)
    back = reverse("web:file-list")
    page = _page_number(request)
    return redirect(f"{back}?{urlencode({'page': page})}" if page != "1" else back)


@signed_in
@require_GET
def file_list_page(request: SignedInRequest) -> HttpResponse:
    partial = htmx_target(request) == REGION
    template = "web/files/_files.html" if partial else "web/files/list.html"
    return render(request, template, _files_context(request))


@streamed_upload
@signed_in
@require_POST
def file_upload(request: SignedInRequest) -> HttpResponse:
    form = UploadForm()
    try:
        with upload_from(request) as upload:
            assert upload.file is not None  # upload_from: a file was sent
            stored = file_store(
                owner=request.user,
                upload=upload.file,
                sha256=upload.sha256,
                head=upload.head,
                expected_sha256=upload.expected_sha256,
            )
    except ApplicationError as exc:
        upload_errors(form, exc)
        return _region(request, exc.message, "error", INVALID, upload_form=form)
    return _region(request, f"Uploaded {stored.name}.")


@signed_in  # type: ignore[arg-type]  # a download streams: an HttpResponseBase
@require_GET
def file_download(request: SignedInRequest, pk: int) -> HttpResponseBase:
    return download(request, _own_file(request, pk))


def download(request: HttpRequest, stored: StoredFile) -> HttpResponseBase:
    """The file's bytes, streamed as the API's download does; a 404 page if the blob is
    gone (content_missing)."""
    try:
        return file_download_response(request, stored)
    except ApplicationError as exc:
        raise Http404(exc.message) from None


@signed_in
@require_POST
def file_verify_page(request: SignedInRequest, pk: int) -> HttpResponse:
    result = file_verify(file=_own_file(request, pk), actor=request.user)
    name = result.file.name
    if result.ok:
        return _region(request, f"{name}: intact, its SHA-256 matches.", checked={pk: True})
    message = f"{name}: the stored bytes no longer match its SHA-256."
    return _region(request, message, "error", checked={pk: False})


@signed_in
@require_POST
def file_delete_page(request: SignedInRequest, pk: int) -> HttpResponse:
    stored = _own_file(request, pk)
    try:
        file_delete(file=stored, actor=request.user)
    except ApplicationError as exc:  # storage_unavailable: nothing was deleted
        return _region(request, exc.message, "error")
    return _region(request, f"Deleted {stored.name}.")


urlpatterns: list[URLPattern] = [
    path("", file_list_page, name="file-list"),
    path("upload/", file_upload, name="file-upload"),
    path("<id:pk>/download/", file_download, name="file-download"),
    path("<id:pk>/verify/", file_verify_page, name="file-verify"),
    path("<id:pk>/delete/", file_delete_page, name="file-delete"),
]

"""Signing up, in and out, a forgotten password, a new verification email, a new password.

The emailed links open the pages accounts already serves (/verify-email/, /reset-password/);
these pages send those emails and keep the session the web app runs on.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.password_reset import password_reset_request
from accounts.services import (
    user_password_change,
    user_register,
    user_session_login,
    user_session_logout,
)
from accounts.verification import email_verification_resend
from taskplatform.exceptions import ApplicationError

from ..forms.account import EmailForm, PasswordChangeForm, SignInForm, SignUpForm
from .base import INVALID, SignedInRequest, errors_onto, limited, safe_next, signed_in

# what the pages say after asking for mail, whether or not the address has an account
SENT = "If {email} has an account, an email is on its way. Check your inbox."


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request))
    form = SignInForm(request.POST or None)
    if request.method == "POST":
        if hit := limited(request, ("login_ip", "caller"), ("login_email", "email")):
            return hit
        if form.is_valid():
            try:
                user_session_login(request=request, **form.cleaned_data)
            except ApplicationError as exc:
                errors_onto(form, exc)
            else:
                return redirect(safe_next(request))
    status = INVALID if form.errors else 200
    back = request.POST.get("next") or request.GET.get("next") or ""
    context = {"form": form, "next": back}
    return render(request, "web/account/sign_in.html", context, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    user_session_logout(request=request)
    messages.success(request, "You are signed out.")
    return redirect("web:login")


@never_cache
@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        if hit := limited(request, ("auth", "caller"), ("account_mail_email", "email")):
            return hit
        if form.is_valid():
            try:
                user_register(**form.cleaned_data)
            except ApplicationError as exc:
                errors_onto(form, exc)
            else:
                return _mail_sent(request, form.cleaned_data["email"], "Confirm your email")
    status = INVALID if form.errors else 200
    return render(request, "web/account/sign_up.html", {"form": form}, status=status)


def _email_form_page(request: HttpRequest, template: str, send, heading: str) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST":
        if hit := limited(request, ("account_mail_ip", "caller"), ("account_mail_email", "email")):
            return hit
        if form.is_valid():
            send(email=form.cleaned_data["email"])
            return _mail_sent(request, form.cleaned_data["email"], heading)
    status = INVALID if form.errors else 200
    return render(request, template, {"form": form}, status=status)


def _mail_sent(request: HttpRequest, email: str, heading: str) -> HttpResponse:
    return render(
        request,
        "web/account/mail_sent.html",
        {"heading": heading, "message": SENT.format(email=email)},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    return _email_form_page(
        request, "web/account/forgot_password.html", password_reset_request, "Reset your password"
    )


@never_cache
@require_http_methods(["GET", "POST"])
def resend_verification(request: HttpRequest) -> HttpResponse:
    return _email_form_page(
        request,
        "web/account/resend_verification.html",
        email_verification_resend,
        "Confirm your email",
    )


@never_cache
@signed_in
@require_http_methods(["GET", "POST"])
def change_password(request: SignedInRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST":
        if hit := limited(request, ("auth", "caller")):
            return hit
        if form.is_valid():
            try:
                user_password_change(user=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                errors_onto(form, exc)
            else:
                # the session survives the change it was used to make; the API's refresh
                # tokens don't (the service revoked them)
                update_session_auth_hash(request, request.user)
                messages.success(request, "Your password is changed.")
                return redirect("web:home")
    status = INVALID if form.errors else 200
    return render(request, "web/account/change_password.html", {"form": form}, status=status)


urlpatterns = [
    path("login/", sign_in, name="login"),
    path("logout/", sign_out, name="logout"),
    path("signup/", sign_up, name="signup"),
    path("forgot-password/", forgot_password, name="forgot-password"),
    path("verify/resend/", resend_verification, name="resend-verification"),
    path("account/password/", change_password, name="change-password"),
]

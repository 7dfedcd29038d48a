"""Account use cases: register, log in / out, rotate tokens, change password, edit profile.

Email verification is in accounts/verification.py, password reset in accounts/password_reset.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from audit.services import audit_record
from files.selectors import file_usage
from files.services import blobs_delete
from jobs.selectors import job_count
from jobs.services import jobs_stop_for_owner
from live.services import live_session_ended
from notifications.kinds import Kind
from notifications.services import notification_create
from taskplatform.exceptions import ApplicationError
from tasks.selectors import task_count

from .models import User, normalize_email
from .verification import email_verification_send

INVALID_CREDENTIALS = "Invalid email or password."


def password_errors(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def _issue_tokens(user: User) -> dict[str, Any]:
    refresh = RefreshToken.for_user(user)
    return {
        "access": str(refresh.access_token),
        "refresh": str(refresh),
        "token_type": "Bearer",
        # what simplejwt gave the token (read at call time: it reloads on setting_changed)
        "expires_in": int(jwt_settings.api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
    }


def _hour_bucket() -> str:
    return timezone.now().strftime("%Y%m%d%H")


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str = "") -> None:
    """Sign up, answering the same whether or not the address has an account.

    A new address gets an account (unverified while ACCOUNTS_REQUIRE_EMAIL_VERIFICATION,
    with a verification email; else verified, with the welcome email). An address that has
    an account gets mail instead: the verification email again while it is unverified (the
    password stays), else "someone tried to register" (at most one an hour). The password
    is checked and hashed in every case, so the time taken doesn't tell either.
    """
    email = normalize_email(email)
    candidate = User(email=email, full_name=full_name)
    if errors := password_errors(password, candidate):
        raise ApplicationError(
            "The request is invalid: see details.",
            code="validation_error",
            details={"password": errors},
        )
    candidate.set_password(password)
    existing = User.objects.filter(email=email).first()
    if existing is None:
        require = settings.ACCOUNTS_REQUIRE_EMAIL_VERIFICATION
        candidate.email_verified_at = None if require else timezone.now()
        try:
            with transaction.atomic():
                candidate.save()
        except IntegrityError:  # registered by a concurrent request since the check above
            existing = User.objects.get(email=email)
        else:
            audit_record(actor=candidate, action="user.registered", target=candidate)
            if require:
                email_verification_send(user=candidate, reason="register")
            else:
                notification_create(
                    user=candidate,
                    kind=Kind.WELCOME,
                    context={},
                    idempotency_key=f"welcome:{candidate.pk}",
                )
            return
    _register_existing(existing)


def _register_existing(user: User) -> None:
    audit_record(action="user.register_attempted", target=user)
    if not user.email_verified:
        email_verification_send(user=user, reason="register")
        return
    notification_create(
        user=user,
        kind=Kind.REGISTER_ATTEMPT,
        context={},
        idempotency_key=f"register_attempt:{user.pk}:{_hour_bucket()}",
    )


def _credentials_checked(email: str, password: str, request: HttpRequest | None) -> User:
    """The account for valid credentials. Failures say the same whether or not it exists."""
    user = authenticate(request, email=normalize_email(email), password=password)
    if user is None:
        audit_record(action="user.login_failed", details={"email": normalize_email(email)[:254]})
        raise ApplicationError(INVALID_CREDENTIALS, code="invalid_credentials")
    return user


def user_login(*, email: str, password: str, request: HttpRequest | None = None) -> dict[str, Any]:
    """Tokens for valid credentials (the API's sign-in)."""
    user = _credentials_checked(email, password, request)
    with transaction.atomic():
        tokens = _issue_tokens(user)
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        audit_record(actor=user, action="user.login", target=user)
    return tokens


def user_session_login(*, request: HttpRequest, email: str, password: str) -> User:
    """Sign in to the web app: Django's session for `request` (a new session key, the
    login stamped by Django's user_logged_in), audited like the API's sign-in."""
    user = _credentials_checked(email, password, request)
    with transaction.atomic():
        login(request, user)
        audit_record(actor=user, action="user.login", target=user, details={"via": "web"})
    return user


def user_session_logout(*, request: HttpRequest) -> None:
    """Sign out of the web app: the session is flushed (its CSRF token rotated)."""
    user, session_key = request.user, request.session.session_key
    logout(request)
    if isinstance(user, User):
        audit_record(actor=user, action="user.logout", target=user, details={"via": "web"})
        if session_key:  # its live connections close too (a tab left open in another window)
            live_session_ended(user_id=user.pk, session_key=session_key)


@transaction.atomic
def token_refresh(*, refresh: str) -> dict[str, Any]:
    """Rotate: the presented refresh token dies, a new pair is issued.

    The outstanding row is locked so two concurrent refreshes of one token can't both win.
    """
    try:
        # signature, expiry, type and blacklist (simplejwt annotates the argument as a Token:
        # it takes the encoded string too)
        token = RefreshToken(refresh)  # type: ignore[arg-type]
    except TokenError as exc:
        raise ApplicationError(str(exc), code="invalid_token") from None
    outstanding = (
        OutstandingToken.objects.select_for_update(of=("self",)).filter(jti=token["jti"]).first()
    )
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise ApplicationError("Token is blacklisted", code="invalid_token")
    user = User.objects.filter(pk=token.get("user_id"), is_active=True).first()
    if user is None:
        raise ApplicationError("No active account found for the given token.", code="invalid_token")
    BlacklistedToken.objects.create(token=outstanding)
    return _issue_tokens(user)


@transaction.atomic
def user_logout(*, user: User, refresh: str) -> None:
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # the string: see token_refresh
    except Exception as exc:
        raise ApplicationError(
            "The refresh token is invalid or expired.",
            code="validation_error",
            details={"refresh": [str(exc)]},
        ) from None
    if str(token.get("user_id")) != str(user.pk):
        raise ApplicationError(
            "The refresh token is invalid or expired.",
            code="validation_error",
            details={"refresh": ["This token does not belong to you."]},
        )
    token.blacklist()
    audit_record(actor=user, action="user.logout", target=user)


def _blacklist_all_refresh_tokens(user: User) -> int:
    alive = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=token) for token in alive]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def user_password_change(*, user: User, current_password: str, new_password: str) -> None:
    """Set a new password and kill every refresh token issued before."""
    if not user.check_password(current_password):
        raise ApplicationError(
            "The current password is wrong.",
            code="validation_error",
            details={"current_password": ["The current password is wrong."]},
        )
    password_set(user=user, new_password=new_password, action="user.password_changed")


def password_set(*, user: User, new_password: str, action: str) -> None:
    """Check the new password (an error on `new_password`), set it, kill every refresh
    token issued before and audit `action`: a change or a reset."""
    if errors := password_errors(new_password, user):
        raise ApplicationError(
            "The request is invalid: see details.",
            code="validation_error",
            details={"new_password": errors},
        )
    user.set_password(new_password)
    user.save(update_fields=["password"])
    revoked = _blacklist_all_refresh_tokens(user)
    audit_record(
        actor=user, action=action, target=user, details={"refresh_tokens_revoked": revoked}
    )


@transaction.atomic
def user_profile_update(
    *, user: User, actor: User, full_name: str | None = None, timezone: str | None = None
) -> User:
    """Change what is given (None: leave as is); the audit event lists what really changed."""
    changed = {}
    for field, value in (("full_name", full_name), ("timezone", timezone)):
        if value is not None and getattr(user, field) != value:
            changed[field] = {"from": getattr(user, field), "to": value}
            setattr(user, field, value)
    if changed:
        user.save(update_fields=list(changed))
        audit_record(actor=actor, action="user.updated", target=user, details={"changed": changed})
    return user


# --- operators: deactivate, activate, delete ------------------------------------------------


def _may_manage(user: User, actor: User | None, what: str) -> None:
    """Not yourself; a superuser only by a superuser (the CLI, actor None, may do all)."""
    if actor is None:
        return
    if user.pk == actor.pk:
        raise ApplicationError(f"You can't {what} your own account.", code="conflict")
    if user.is_superuser and not actor.is_superuser:
        raise ApplicationError(
            f"Only a superuser can {what} a superuser.", code="permission_denied"
        )


@transaction.atomic
def user_deactivate(*, user: User, actor: User | None) -> User:
    """Block login, kill every refresh token, pause the user's jobs, drop their queued runs."""
    _may_manage(user, actor, "deactivate")
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked = _blacklist_all_refresh_tokens(user)
    stopped = jobs_stop_for_owner(owner=user)
    audit_record(
        actor=actor,
        action="admin.user_deactivated",
        target=user,
        details={
            "refresh_tokens_revoked": revoked,
            "jobs_paused": stopped["jobs_paused"],
            "runs_cancelled": stopped["runs_cancelled"],
        },
    )
    return user


@transaction.atomic
def user_activate(*, user: User, actor: User | None) -> User:
    """Allow login again. Paused jobs stay paused: the owner resumes what they want."""
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(actor=actor, action="admin.user_activated", target=user)
    return user


@transaction.atomic
def user_delete(*, user: User, actor: User | None) -> dict[str, int]:
    """Remove the user with their tasks, jobs, runs, files and blobs, in one go.

    The user's row is locked first (uploads lock it too, for the quota), so no file can
    arrive between listing the blobs and deleting the rows. Blobs are deleted last, inside
    the transaction: if storage refuses one, the rows stay — the user is not deleted, the
    operator retries, and the blobs already removed belonged to files being deleted anyway.
    No blob is left behind without its row. Audit events stay and keep the actor's email.
    The counts and blob keys come from each app's selectors; the rows go with the user's
    (their foreign keys cascade), so this module writes no other app's table.
    """
    _may_manage(user, actor, "delete")
    user = User.objects.select_for_update().get(pk=user.pk)
    files = file_usage(owner=user)
    summary = {
        "tasks": task_count(owner=user),
        "jobs": job_count(owner=user),
        "files": len(files.keys),
        "bytes": files.bytes,
    }
    audit_record(
        actor=actor,
        action="admin.user_deleted",
        target=user,
        details={"email": user.email, **summary},
    )
    user.delete()
    blobs_delete(keys=files.keys)
    return summary

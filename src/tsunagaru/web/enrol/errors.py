"""Typed errors of the enrolment flows. Each carries a ``key`` the pages and the API turn into a message
in the person's language (:mod:`.messages`) and an HTTP status."""

from __future__ import annotations


class EnrolError(Exception):
    key = "error"
    status = 400

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.key)


class BadEmail(EnrolError):
    key = "bad_email"
    status = 422


class BadInput(EnrolError):
    key = "bad_input"
    status = 422


class RateLimited(EnrolError):
    key = "rate_limited"
    status = 429


class CodeWrong(EnrolError):
    key = "code_wrong"
    status = 400


class CodeExpired(EnrolError):
    key = "code_expired"
    status = 400


class CodeUsed(EnrolError):
    key = "code_used"
    status = 400


class TooManyAttempts(EnrolError):
    key = "code_attempts"
    status = 429


class AccountDisabled(EnrolError):
    key = "account_disabled"
    status = 403


class NotSignedIn(EnrolError):
    key = "not_signed_in"
    status = 401


class UnknownPlatform(EnrolError):
    key = "unknown_platform"
    status = 422


class UnknownMethod(EnrolError):
    key = "unknown_method"
    status = 422


class MethodNotOffered(EnrolError):
    key = "method_not_offered"
    status = 422


class TooManyDevices(EnrolError):
    key = "too_many_devices"
    status = 409


class DeviceNotFound(EnrolError):
    key = "device_not_found"
    status = 404


class DeviceRevoked(EnrolError):
    key = "device_revoked"
    status = 409


class LinkInvalid(EnrolError):
    key = "link_invalid"
    status = 404


class LinkExpired(EnrolError):
    key = "link_expired"
    status = 410


class LinkUsed(EnrolError):
    key = "link_used"
    status = 410


class MailFailed(EnrolError):
    key = "mail_failed"
    status = 503


class Forbidden(EnrolError):
    key = "forbidden"
    status = 403


class CsrfFailed(EnrolError):
    key = "csrf"
    status = 403


class ProfileFailed(EnrolError):
    key = "profile_unavailable"
    status = 503

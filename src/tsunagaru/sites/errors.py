"""Typed errors of the registry services; the web app maps them to HTTP (404, 403, 422, 409)."""

from __future__ import annotations


class RegistryError(Exception):
    """Base of every registry error. ``code`` is stable (for APIs and translations), the text is English."""

    code = "registry_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(RegistryError):
    """No such resource, or one the principal may not read (both look the same on purpose)."""

    code = "not_found"


class Forbidden(RegistryError):
    """The principal may read this but not change it (or may not create it here)."""

    code = "forbidden"


class Invalid(RegistryError):
    """Input that cannot be stored: ``field`` names the bad field."""

    code = "invalid"


class Conflict(RegistryError):
    """The change clashes with what is stored (a duplicate key, a site that still has APs...)."""

    code = "conflict"

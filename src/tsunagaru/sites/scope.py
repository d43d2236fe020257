"""Who may read and change what in the registry: roles, the principal, and the rules (pure).

    city-admin             everything, including tenants, approvals and the audit log
    municipality-operator  the sites (and their APs) whose local government code is its own
    site-operator          the sites (and their APs) its organisation operates, once approved
    viewer                 reads the registry, changes nothing, no audit log
    auditor                reads the registry and the audit log, changes nothing

A principal whose scope is incomplete (a municipality operator without a code, a site operator without
an organisation) sees nothing rather than everything. The web app authenticates and builds the
:class:`Principal`; the services apply these rules, answering out-of-scope reads with ``NotFound`` and
out-of-scope writes with ``Forbidden``. Whether a site operator's organisation is approved is a fact
of the store, so the services check it (see :func:`tsunagaru.sites.tenants.effective_principal`).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CITY_ADMIN = "city-admin"
    MUNICIPALITY_OPERATOR = "municipality-operator"
    SITE_OPERATOR = "site-operator"
    VIEWER = "viewer"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Principal:
    username: str
    role: Role
    municipality_code: str | None = None
    organisation_id: int | None = None


READ_ALL = frozenset({Role.CITY_ADMIN, Role.VIEWER, Role.AUDITOR})


@dataclass(frozen=True)
class SiteScope:
    """What part of the registry a principal reaches, as a query filter: everything, one municipality,
    one operator organisation, or nothing."""

    everything: bool = False
    municipality_code: str | None = None
    operator_id: int | None = None

    @property
    def nothing(self) -> bool:
        return not self.everything and self.municipality_code is None and self.operator_id is None

    def holds(self, municipality_code: str | None, operator_id: int | None) -> bool:
        if self.everything:
            return True
        if self.municipality_code is not None:
            return municipality_code == self.municipality_code
        if self.operator_id is not None:
            return operator_id == self.operator_id
        return False


def read_scope(p: Principal) -> SiteScope:
    """The sites ``p`` may read."""
    if p.role in READ_ALL:
        return SiteScope(everything=True)
    return write_scope(p)


def write_scope(p: Principal) -> SiteScope:
    """The sites (and their APs) ``p`` may create, change and delete."""
    if p.role is Role.CITY_ADMIN:
        return SiteScope(everything=True)
    if p.role is Role.MUNICIPALITY_OPERATOR and p.municipality_code:
        return SiteScope(municipality_code=p.municipality_code)
    if p.role is Role.SITE_OPERATOR and p.organisation_id is not None:
        return SiteScope(operator_id=p.organisation_id)
    return SiteScope()


def may_read_site(p: Principal, municipality_code: str | None, operator_id: int | None) -> bool:
    return read_scope(p).holds(municipality_code, operator_id)


def may_write_site(p: Principal, municipality_code: str | None, operator_id: int | None) -> bool:
    return write_scope(p).holds(municipality_code, operator_id)


# An AP is in scope exactly when its site is.
may_read_ap = may_read_site
may_write_ap = may_write_site


def may_read_audit(p: Principal) -> bool:
    return p.role in (Role.CITY_ADMIN, Role.AUDITOR)


def may_manage_tenants(p: Principal) -> bool:
    """Create organisations and municipalities, approve or reject applications, assign operators."""
    return p.role is Role.CITY_ADMIN


def may_read_organisation(p: Principal, organisation_id: int, municipality_code: str | None) -> bool:
    """Everyone who reads the whole registry sees every tenant; others see their own organisation."""
    if p.role in READ_ALL:
        return True
    if p.organisation_id is not None and organisation_id == p.organisation_id:
        return True
    return p.role is Role.MUNICIPALITY_OPERATOR and p.municipality_code is not None and (
        municipality_code == p.municipality_code)


def may_read_municipality(p: Principal, code: str) -> bool:
    """The municipality list is public reference data (codes and names)."""
    return True


def system_principal(user: str | None = None) -> Principal:
    """The principal of a local command (``tsunagaru sites ...``): a city admin named ``cli:<unix user>``.

    Whoever can run the command on the server can open the database file anyway; naming them keeps
    the audit log honest about where a change came from.
    """
    if user is None:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
    return Principal(f"cli:{user}", Role.CITY_ADMIN)

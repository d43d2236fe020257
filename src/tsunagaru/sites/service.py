"""The registry's service API in one place (what the web app, the CLI and the demo import).

Every function takes a :class:`Principal` and a SQLAlchemy ``Session``, enforces scope (out of scope:
``NotFound`` on reads, ``Forbidden`` on writes; bad input ``Invalid``; clashes ``Conflict``, all from
:mod:`tsunagaru.sites.errors`), writes an audit row for every change with before and after, and never
commits: the caller's unit of work commits or rolls back. Lists return a :class:`Page` (limit 1-1000,
offset, total). Results are frozen views from :mod:`tsunagaru.sites.views`.
"""

from tsunagaru.sites.ap_service import (
    ap_record,
    create_ap,
    delete_ap,
    get_ap,
    list_aps,
    record_config_served,
    record_status,
    update_ap,
)
from tsunagaru.sites.audit import list_audit, record
from tsunagaru.sites.errors import Conflict, Forbidden, Invalid, NotFound, RegistryError
from tsunagaru.sites.scope import Principal, Role, system_principal
from tsunagaru.sites.site_service import create_site, delete_site, get_site, list_sites, update_site
from tsunagaru.sites.tenants import (
    apply_site_operator,
    approve_organisation,
    assign_sites,
    create_organisation,
    effective_principal,
    get_municipality,
    get_organisation,
    list_municipalities,
    list_organisations,
    reject_organisation,
    update_organisation,
    upsert_municipalities,
)
from tsunagaru.sites.views import ApView, AuditView, MunicipalityView, OrganisationView, Page, SiteView

__all__ = [
    "ApView", "AuditView", "Conflict", "Forbidden", "Invalid", "MunicipalityView", "NotFound", "OrganisationView",
    "Page", "Principal", "RegistryError", "Role", "SiteView", "ap_record", "apply_site_operator",
    "approve_organisation", "assign_sites", "create_ap", "create_organisation", "create_site", "delete_ap",
    "delete_site", "effective_principal", "get_ap", "get_municipality", "get_organisation", "get_site", "list_aps",
    "list_audit", "list_municipalities", "list_organisations", "list_sites", "record", "record_config_served",
    "record_status", "reject_organisation", "system_principal", "update_ap", "update_organisation", "update_site",
    "upsert_municipalities",
]

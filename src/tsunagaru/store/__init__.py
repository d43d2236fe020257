"""The database behind Tsunagaru: SQLAlchemy 2.0 tables, SQLite by default, PostgreSQL in production.

    store = Store.open("sqlite:///./tsunagaru-idp.sqlite")   # or postgresql+psycopg://user@host/db
    with store.session() as session:                          # one transaction
        session.add(...)
"""

from tsunagaru.store.base import AccountingRecordMixin, Base, SchemaVersion, UtcDateTime
from tsunagaru.store.engine import (
    DEFAULT_URL,
    ENV_URL,
    SCHEMA_VERSION,
    SchemaMismatch,
    Store,
    StoreError,
    create_schema,
    default_url,
    make_engine,
)
from tsunagaru.store.idp_tables import IdpAccounting, User, UserCertificate

__all__ = [
    "DEFAULT_URL",
    "ENV_URL",
    "SCHEMA_VERSION",
    "AccountingRecordMixin",
    "Base",
    "IdpAccounting",
    "SchemaMismatch",
    "SchemaVersion",
    "Store",
    "StoreError",
    "User",
    "UserCertificate",
    "UtcDateTime",
    "create_schema",
    "default_url",
    "make_engine",
]

from tests.support.store_backends import pg_server, store  # noqa: F401 (fixtures)

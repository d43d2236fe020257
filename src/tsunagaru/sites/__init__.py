"""The site registry's domain: sites, access points, municipalities, tenants, importers and scope rules.

``scope`` says who may see and change what; ``service`` is the API the web app and the CLI call (each
function takes a :class:`~tsunagaru.sites.scope.Principal` and a SQLAlchemy session, enforces scope,
audits every change and never commits); ``importers`` parse the national standard Wi-Fi lists.
"""

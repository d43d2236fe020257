"""Typed errors of the federation PKI.

``PkiError`` means "this request cannot be done as asked" (bad WBAID, unknown serial, CSR without a
valid signature); ``MalformedInput`` means bytes that are not the certificate, key or CRL they claim to
be. Peer verification never raises: it answers with a :class:`~tsunagaru.pki.verify.VerifyResult`.
"""

from __future__ import annotations


class PkiError(Exception):
    """A PKI operation that cannot be done; the message is meant for an operator."""


class MalformedInput(PkiError):
    """PEM/DER that does not parse as the certificate, key, CSR or CRL expected."""

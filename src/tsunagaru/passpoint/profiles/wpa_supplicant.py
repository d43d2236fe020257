"""wpa_supplicant configuration for a device credential: a Hotspot 2.0 ``cred`` block and a plain
``network`` block (the same credential for one SSID, or for a wired port).

Written by hand because it is a few lines; the rules are hostap's parser's (profile-specs/wpa_supplicant):
string fields are quoted (``P"..."`` with printf escapes when the text needs it), ``eap`` and integers
are bare, OI lists are one quoted comma-separated string, and every ``cred`` line stays under the
parser's 256-byte line buffer, since a cut line drops the whole credential.
"""

from __future__ import annotations

import base64
from pathlib import PurePath

from cryptography.hazmat.primitives import serialization

from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    DeviceCredential,
    EapMethod,
    InnerMethod,
    PasswordCredential,
    Profile,
    ProfileError,
    ProfileSettings,
    check_credential,
)

Location = str | PurePath  # a file path on the device, or ``blob://NAME``
CRED_LINE_MAX = 254  # config_file.c reads cred blocks with char buf[256]


def quote(text: str) -> str:
    """A wpa_supplicant string value: ``"text"`` when plain, else ``P"..."`` (printf-escaped UTF-8)."""
    if text and all(0x20 <= ord(c) < 0x7F and c not in '"\\' for c in text):
        return f'"{text}"'
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return 'P"' + "".join(out) + '"'


def _phase1(settings: ProfileSettings) -> str:
    parts = ["tls_disable_tlsv1_0=1", "tls_disable_tlsv1_1=1"]
    if settings.tls_min == "1.3":
        parts.append("tls_disable_tlsv1_2=1")
    if settings.tls_max == "1.2":
        parts.append("tls_disable_tlsv1_3=1")
    return " ".join(parts)


def _phase2(credential: PasswordCredential) -> str:
    return "auth=MSCHAPV2" if credential.inner is InnerMethod.MSCHAPV2 else "auth=PAP"


def _eap_lines(
    settings: ProfileSettings,
    credential: DeviceCredential,
    ca_cert: Location,
    client_cert: Location | None,
    private_key: Location | None,
) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = [("eap", credential.method.value.upper())]
    lines.append(("ca_cert", quote(str(ca_cert))))
    lines.append(("domain_suffix_match", quote(";".join(settings.server_names))))
    lines.append(("phase1", quote(_phase1(settings))))
    if isinstance(credential, PasswordCredential):
        lines.append(("password", quote(credential.password)))
        lines.append(("phase2", quote(_phase2(credential))))
    else:
        if private_key is None:
            raise ProfileError("an EAP-TLS credential needs the path of its private key (PEM or PKCS#12)")
        if client_cert is not None:
            lines.append(("client_cert", quote(str(client_cert))))
        lines.append(("private_key", quote(str(private_key))))
    return lines


def cred_block(
    settings: ProfileSettings,
    credential: DeviceCredential,
    *,
    ca_cert: Location,
    client_cert: Location | None = None,
    private_key: Location | None = None,
    home_ois: bool = False,
) -> str:
    """A ``cred={...}`` block for Hotspot 2.0 network selection (needs ``interworking=1`` and ``hs20=1``).

    ``ca_cert`` is where the device keeps :func:`ca_bundle` (every trusted CA); for EAP-TLS,
    ``private_key`` names the key (PEM) or the PKCS#12 file (then ``client_cert`` is left out).
    The RCOIs go into ``roaming_consortiums`` (consortium membership, wpa_supplicant 2.7 and later);
    ``home_ois`` adds them as ``home_ois`` too, a field only wpa_supplicant 2.11 and later knows:
    an older one (Debian 12 has 2.10) drops the whole cred block for an unknown field.
    """
    check_credential(settings, credential)
    ois = ",".join(settings.rcois).lower()
    lines = [("realm", quote(settings.realm)), ("username", quote(credential.username)),
             ("domain", quote(settings.home_fqdn)), ("roaming_consortiums", quote(ois)),
             ("provisioning_sp", quote(settings.home_fqdn))]
    if home_ois:
        lines.insert(3, ("home_ois", quote(ois)))
    eap = _eap_lines(settings, credential, ca_cert, client_cert, private_key)
    lines[2:2] = [eap[0]]
    lines += eap[1:]
    text = ["cred={"]
    for key, value in lines:
        line = f"\t{key}={value}"
        if len(line.encode()) > CRED_LINE_MAX:
            raise ProfileError(f"the cred field {key} is longer than wpa_supplicant reads in a cred block")
        text.append(line)
    text.append("}")
    return "\n".join(text) + "\n"


def network_block(
    settings: ProfileSettings,
    credential: DeviceCredential,
    *,
    ca_cert: Location,
    client_cert: Location | None = None,
    private_key: Location | None = None,
    ssid: str | None = None,
    wired: bool = False,
) -> str:
    """A ``network={...}`` block: for ``ssid`` (WPA2/WPA3-Enterprise with PMF when it can), or, with
    ``wired``, for an 802.1X wired port (``key_mgmt=IEEE8021X``, no EAPOL keys)."""
    check_credential(settings, credential)
    if wired == (ssid is not None):
        raise ProfileError("a network block is either for an SSID or wired")
    lines: list[tuple[str, str]] = []
    if ssid is not None:
        if not 1 <= len(ssid.encode()) <= 32:
            raise ProfileError("an SSID is 1-32 bytes")
        lines += [("ssid", quote(ssid)), ("key_mgmt", "WPA-EAP WPA-EAP-SHA256"), ("ieee80211w", "1")]
    else:
        lines += [("key_mgmt", "IEEE8021X"), ("eapol_flags", "0")]
    identity = credential.username
    lines.append(("identity", quote(identity)))
    if credential.method is not EapMethod.TLS:
        lines.append(("anonymous_identity", quote(settings.anonymous_identity)))
    lines += _eap_lines(settings, credential, ca_cert, client_cert, private_key)
    return "network={\n" + "".join(f"\t{k}={v}\n" for k, v in lines) + "}\n"


def config_file(settings: ProfileSettings, credential: DeviceCredential, *, ca_cert: Location,
                client_cert: Location | None = None, private_key: Location | None = None,
                ctrl_interface: str = "DIR=/run/wpa_supplicant GROUP=netdev", home_ois: bool = False) -> str:
    """A whole ``wpa_supplicant.conf`` that selects Passpoint networks by itself with the credential."""
    head = (f"ctrl_interface={ctrl_interface}\nupdate_config=0\ninterworking=1\nhs20=1\nauto_interworking=1\n"
            "pmf=1\n\n")
    return head + cred_block(settings, credential, ca_cert=ca_cert, client_cert=client_cert,
                             private_key=private_key, home_ois=home_ois)


CA_BLOB, CERT_BLOB, KEY_BLOB = "tsunagaru-ca", "tsunagaru-cert", "tsunagaru-key"
CONTENT_TYPE = "text/plain; charset=utf-8"


def _blob(name: str, data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    lines = "\n".join(encoded[i:i + 64] for i in range(0, len(encoded), 64))
    return f"blob-base64-{name}={{\n{lines}\n}}\n"


def bundle(
    settings: ProfileSettings,
    credential: DeviceCredential,
    *,
    ssid: str | None = None,
    wired: bool = False,
    ctrl_interface: str = "DIR=/run/wpa_supplicant GROUP=netdev",
    home_ois: bool = False,
) -> Profile:
    """One self-contained ``wpa_supplicant.conf`` to download: the globals for Passpoint selection, the
    cred block, a network block when ``ssid`` (or ``wired``) is given, and the CA bundle, certificate
    and key inlined as ``blob-base64-*`` sections (referred to as ``blob://...``), so nothing else has
    to be copied. It holds the password or the private key: the caller serves it once, over HTTPS.
    """
    ca = f"blob://{CA_BLOB}"
    files: dict[str, Location] = {}
    blobs = [_blob(CA_BLOB, ca_bundle(settings))]
    if isinstance(credential, CertificateCredential):
        files = {"client_cert": f"blob://{CERT_BLOB}", "private_key": f"blob://{KEY_BLOB}"}
        blobs.append(_blob(CERT_BLOB, credential.certificate.public_bytes(serialization.Encoding.DER)))
        blobs.append(_blob(KEY_BLOB, credential.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))
    text = config_file(settings, credential, ca_cert=ca, ctrl_interface=ctrl_interface, home_ois=home_ois, **files)
    if ssid is not None or wired:
        text += "\n" + network_block(settings, credential, ca_cert=ca, ssid=ssid, wired=wired, **files)
    text += "\n" + "\n".join(blobs)
    return Profile(CONTENT_TYPE, "openroaming-wpa_supplicant.conf", text.encode())


def ca_bundle(settings: ProfileSettings) -> bytes:
    """Every trusted EAP server CA as one PEM file (what ``ca_cert`` points at)."""
    return b"".join(ca.public_bytes(serialization.Encoding.PEM) for ca in settings.ca_certificates)


def key_pem(credential: CertificateCredential) -> bytes:
    """The device's private key as unencrypted PKCS#8 PEM (to be written 0600 by the caller)."""
    return credential.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())

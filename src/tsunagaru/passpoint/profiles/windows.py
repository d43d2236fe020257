"""Windows 10 (2004+) and 11 Passpoint profiles: a ``CarrierProvisioning`` document with one
``WLANProfile`` carrying ``Hotspot2`` (DomainName, NAIRealm, RoamingConsortium), EAP-TTLS and the
device's username and password, signed with an enveloped XML-DSig (RSA, SHA-256).

Windows takes username/password over EAP-TTLS from a web-provisioning file (certificates cannot be
installed this way, and PEAP depends on the build: profile-specs/windows/NOTES.md §1, §3.4), so this
builder accepts TTLS credentials only. Element order is enforced by Windows' schemas and follows the
notes (Hotspot2 after SSIDConfig, ``DomainName, NAIRealm, RoamingConsortium``); names use the
``http://`` namespaces and ``TrustedRootCAHash`` as every working profile does. The signature follows
Microsoft's restricted profile: one Reference with ``URI=""`` and one Transform (enveloped), exclusive
of the c14n transform signxml would add by default. Windows installs the file only when its signer
chains to a root the machine trusts, so the portal's signing certificate must come from such a CA.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml.algorithms import SignatureConstructionMethod
from signxml.signer import XMLSigner

from tsunagaru.passpoint.profiles.model import (
    DeviceCredential,
    EapMethod,
    InnerMethod,
    PasswordCredential,
    Profile,
    ProfileError,
    ProfileSettings,
    SigningIdentity,
    check_credential,
)

CONTENT_TYPE = "application/xml"
NS_CARRIER = "http://www.microsoft.com/networking/CarrierControl/v1"
NS_WLAN = "http://www.microsoft.com/networking/CarrierControl/WLAN/v1"
NS_ONEX = "http://www.microsoft.com/networking/OneX/v1"
NS_EAPHOST = "http://www.microsoft.com/provisioning/EapHostConfig"
NS_EAPCOMMON = "http://www.microsoft.com/provisioning/EapCommon"
NS_TTLS = "http://www.microsoft.com/provisioning/EapTtlsConnectionPropertiesV1"
NS_USERCREDS = "http://www.microsoft.com/provisioning/EapHostUserCredentials"
NS_TTLS_USER = "http://www.microsoft.com/provisioning/EapTtlsUserPropertiesV1"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
EAP_TTLS, MICROSOFT = "21", "311"
LINK_PREFIX = "ms-settings:wifi-provisioning?uri="
_URL_PATH = re.compile(r"^[A-Za-z0-9._~!$'()*+,;=:@%/-]*$")


def _default(ns: str) -> dict[str, str]:
    """An nsmap that makes ``ns`` the default namespace (lxml's key for it is None)."""
    return {None: ns}  # type: ignore[dict-item]


def _el(parent: etree._Element, ns: str, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{ns}}}{tag}", nsmap=_default(ns) if parent.nsmap.get(None) != ns else None)
    if text is not None:
        child.text = text
    return child


def _eap_method(parent: etree._Element) -> None:
    method = _el(parent, parent.nsmap[None], "EapMethod")
    for tag, value in (("Type", EAP_TTLS), ("VendorId", "0"), ("VendorType", "0"), ("AuthorId", MICROSOFT)):
        _el(method, NS_EAPCOMMON, tag, value)


def _security(parent: etree._Element, settings: ProfileSettings, credential: PasswordCredential) -> None:
    security = _el(_el(parent, NS_WLAN, "MSM"), NS_WLAN, "security")
    auth = _el(security, NS_WLAN, "authEncryption")
    for tag, value in (("authentication", "WPA2"), ("encryption", "AES"), ("useOneX", "true")):
        _el(auth, NS_WLAN, tag, value)
    onex = _el(security, NS_ONEX, "OneX")
    _el(onex, NS_ONEX, "authMode", "user")
    host = _el(_el(onex, NS_ONEX, "EAPConfig"), NS_EAPHOST, "EapHostConfig")
    _eap_method(host)
    ttls = _el(_el(host, NS_EAPHOST, "Config"), NS_TTLS, "EapTtls")
    validation = _el(ttls, NS_TTLS, "ServerValidation")
    _el(validation, NS_TTLS, "ServerNames", ";".join(settings.server_names))
    for ca in settings.ca_certificates:
        _el(validation, NS_TTLS, "TrustedRootCAHash", ca.fingerprint(hashes.SHA1()).hex())
    _el(validation, NS_TTLS, "DisablePrompt", "false")
    phase2 = _el(ttls, NS_TTLS, "Phase2Authentication")
    _el(phase2, NS_TTLS, "MSCHAPv2Authentication" if credential.inner is InnerMethod.MSCHAPV2 else "PAPAuthentication")
    phase1 = _el(ttls, NS_TTLS, "Phase1Identity")
    _el(phase1, NS_TTLS, "IdentityPrivacy", "true")
    _el(phase1, NS_TTLS, "AnonymousIdentity", settings.anonymous_identity)
    creds = _el(security, NS_USERCREDS, "EapHostUserCredentials")
    _eap_method(creds)
    user = _el(_el(creds, NS_USERCREDS, "Credentials"), NS_TTLS_USER, "EapTtls")
    _el(user, NS_TTLS_USER, "Username", credential.username)
    _el(user, NS_TTLS_USER, "Password", credential.password)


def document(settings: ProfileSettings, credential: DeviceCredential, *, ssid: str | None = None) -> etree._Element:
    """The unsigned CarrierProvisioning element; ``ssid`` adds an SSIDConfig (none by default)."""
    check_credential(settings, credential)
    if not isinstance(credential, PasswordCredential) or credential.method is not EapMethod.TTLS:
        raise ProfileError("Windows web provisioning takes EAP-TTLS username/password credentials only")
    root = etree.Element(f"{{{NS_CARRIER}}}CarrierProvisioning", nsmap=_default(NS_CARRIER))
    glob = _el(root, NS_CARRIER, "Global")
    carrier = uuid.uuid5(uuid.NAMESPACE_DNS, f"{settings.identifier}.{settings.realm}")
    _el(glob, NS_CARRIER, "CarrierId", "{" + str(carrier) + "}")
    _el(glob, NS_CARRIER, "SubscriberId", hashlib.sha256(credential.username.encode()).hexdigest()[:20])
    wlan = _el(_el(root, NS_CARRIER, "WLANProfiles"), NS_WLAN, "WLANProfile")
    _el(wlan, NS_WLAN, "name", settings.friendly_name)
    if ssid is not None:
        if not 1 <= len(ssid.encode()) <= 32:
            raise ProfileError("an SSID is 1-32 bytes")
        _el(_el(_el(wlan, NS_WLAN, "SSIDConfig"), NS_WLAN, "SSID"), NS_WLAN, "name", ssid)
    hotspot = _el(wlan, NS_WLAN, "Hotspot2")
    _el(hotspot, NS_WLAN, "DomainName", settings.home_fqdn)
    _el(_el(hotspot, NS_WLAN, "NAIRealm"), NS_WLAN, "name", settings.realm)
    consortium = _el(hotspot, NS_WLAN, "RoamingConsortium")
    for oi in settings.rcois:
        _el(consortium, NS_WLAN, "OUI", oi.lower())
    _security(wlan, settings, credential)
    return root


def sign(root: etree._Element, signer: SigningIdentity) -> bytes:
    """Enveloped XML-DSig (rsa-sha256, sha256, inclusive c14n 1.0, URI="", one Transform)."""
    if not isinstance(signer.key, rsa.RSAPrivateKey):
        raise ProfileError("Windows provisioning files are signed with an RSA key")
    xml_signer = XMLSigner(method=SignatureConstructionMethod.enveloped, signature_algorithm="rsa-sha256",
                           digest_algorithm="sha256", c14n_algorithm=C14N)
    certs = [c.public_bytes(serialization.Encoding.PEM).decode() for c in (signer.certificate, *signer.chain)]
    signed = xml_signer.sign(root, key=signer.key, cert=certs, exclude_c14n_transform_element=True)
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def build(settings: ProfileSettings, credential: DeviceCredential, signer: SigningIdentity, *,
          ssid: str | None = None) -> Profile:
    """The signed provisioning XML that ``ms-settings:wifi-provisioning`` fetches."""
    return Profile(CONTENT_TYPE, "openroaming-windows.xml", sign(document(settings, credential, ssid=ssid), signer))


def provisioning_link(url: str) -> str:
    """The ``ms-settings:wifi-provisioning?uri=`` link Windows opens for a profile at ``url``.

    Windows fetches ``url`` itself, outside the browser and its cookies, so ``url`` should carry a
    short-lived token in its *path* (an HTTPS URL without query or fragment: the link's own query
    string would otherwise be ambiguous, and nothing here needs escaping).
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or parts.username:
        raise ProfileError("the profile URL must be https://host/path with the token in the path")
    if not _URL_PATH.match(parts.path) or not re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?", parts.netloc):
        raise ProfileError("the profile URL has characters that would need escaping")
    return LINK_PREFIX + url

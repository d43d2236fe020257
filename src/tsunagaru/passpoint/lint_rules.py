"""The linter's rules, as data: code, name, severity, what it checks and where the rule comes from.
docs/passpoint.md lists them from this table."""

from __future__ import annotations

from tsunagaru.passpoint.diagnostics import Rule, Severity

E, W = Severity.ERROR, Severity.WARNING
HOSTAPD_CONF = "hostapd 2.10 example hostapd.conf"
HOSTAPD_SRC = "hostapd 2.10 config_file.c (what the parser refuses)"
WBA = "WBA OpenRoaming: RCOI calculator and ANP guidelines"
HS20 = "Wi-Fi Alliance Hotspot 2.0 (Passpoint) specification"
MIC = "MIC guide for Wi-Fi providers (2024), Wi-Biz 00000JAPAN guideline v4.2"

RULES = {r.code: r for r in (
    Rule("PP001", "unknown-key", E, "a key hostapd 2.10 does not know: it refuses to start", HOSTAPD_SRC),
    Rule("PP002", "invalid-line", E, "a line that is not key=value: hostapd refuses to start", HOSTAPD_SRC),
    Rule("PP010", "interworking-off", E, "RCOIs, NAI realms or domains set while interworking is not 1: "
         "they are never sent", HOSTAPD_CONF + " (IEEE 802.11u section)"),
    Rule("PP011", "hs20-off", E, "Passpoint data set while hs20 is not 1: phones do not treat the BSS as a "
         "Passpoint network", HS20),
    Rule("PP012", "rcoi-malformed", E, "an RCOI that is not 3-15 octets of hex, or an OpenRoaming RCOI with "
         "reserved bits set", WBA + "; " + HOSTAPD_CONF),
    Rule("PP013", "openroaming-rcoi-not-in-beacon", E, "the OpenRoaming RCOI is not among the first three "
         "roaming_consortium lines: only those reach beacons and probe responses", HOSTAPD_CONF),
    Rule("PP014", "no-openroaming-rcoi", W, "a Passpoint BSS without an OpenRoaming RCOI "
         "(5A03BA..., BAA2D0..., 004096)", WBA),
    Rule("PP015", "hs20-without-wpa2-enterprise", E, "hs20=1 without WPA2-Enterprise/CCMP (ieee8021x=1, wpa=2, "
         "WPA-EAP key management, CCMP): hostapd refuses to start", HOSTAPD_SRC),
    Rule("PP020", "nai-realm-missing", E, "a Passpoint BSS with no nai_realm carrying EAP methods: phones that "
         "match on realm never associate", HS20),
    Rule("PP021", "nai-realm-malformed", E, "nai_realm not in hostapd's <encoding>,<realms>[,<EAP>[id:val]...] "
         "syntax", HOSTAPD_CONF),
    Rule("PP022", "nai-realm-eap-params", E, "EAP method parameters a phone's credential cannot match "
         "(TLS [5:6], TTLS [2:N][5:7], PEAP [3:N][5:7])", HS20 + " (NAI Realm ANQP element)"),
    Rule("PP023", "domain-name-missing", E, "a Passpoint BSS without domain_name: phones cannot tell home from "
         "roaming", HS20),
    Rule("PP030", "asra-with-rsn", E, "asra=1 on an RSN (WPA2/WPA3) BSS: ASRA is for open networks only",
         HOSTAPD_CONF),
    Rule("PP031", "venue-out-of-range", E, "venue_group/venue_type not in the IEEE 802.11u table",
         "IEEE Std 802.11-2020 Table 9-65/9-66"),
    Rule("PP032", "venue-name-no-language", E, "venue_name or hs20_oper_friendly_name without an ISO 639 "
         "language code (eng:, jpn:)", HOSTAPD_CONF),
    Rule("PP033", "venue-url-not-https", E, "a venue_url that is not https", "Tsunagaru policy (MIC: tell users "
         "who runs the network, over a secure channel)"),
    Rule("PP034", "venue-url-no-name", E, "a venue_url whose number names no venue_name", HOSTAPD_CONF),
    Rule("PP035", "venue-info-incomplete", W, "venue_name without venue_group and venue_type", HOSTAPD_CONF),
    Rule("PP040", "hessid-inconsistent", E, "BSSes of one ESS (same SSID) in this file with different or "
         "missing HESSIDs", HOSTAPD_CONF + " (hessid)"),
    Rule("PP041", "value-malformed", E, "a Passpoint value hostapd parses as garbage or refuses (HESSID, "
         "ipaddr_type_availability, hs20_wan_metrics, hs20_conn_capab, anqp_3gpp_cell_net)", HOSTAPD_CONF),
    Rule("PP050", "no-cui-request", E, "an 802.1X BSS without radius_request_cui=1: the IdP's CUI never "
         "reaches the ANP", "RFC 4372; " + WBA),
    Rule("PP051", "no-operator-name", E, "no radius_auth_req_attr=126:s:4<WBAID> (Operator-Name, namespace 4 = "
         "WBAID)", "RFC 5580; WBA RADIUS VSA README"),
    Rule("PP052", "message-authenticator-not-required", E, "Dynamic Authorization enabled without "
         "radius_das_require_message_authenticator=1 (BlastRADIUS)", "CVE-2024-3596; " + HOSTAPD_CONF),
    Rule("PP053", "weak-radius-secret", E, "a default or short (< 16) RADIUS secret towards a server that is "
         "not on loopback", "RFC 2865 section 3; CVE-2024-3596"),
    Rule("PP060", "pmf-off-with-wpa3", E, "WPA3 key management (SHA256/SAE/OWE/Suite-B) with ieee80211w off, "
         "or WPA3-only without ieee80211w=2", HOSTAPD_CONF + " (ieee80211w)"),
    Rule("PP070", "disaster-ssid-not-open", E, "00000JAPAN with anything but open or OWE", MIC),
    Rule("PP071", "disaster-ssid-first-bss", E, "00000JAPAN as the first BSS of a radio: reloading it drops "
         "every client of the radio", "hostapd control interface (RELOAD vs ADD/REMOVE bss)"),
    Rule("PP072", "disaster-ssid-no-isolation", W, "00000JAPAN without ap_isolate=1", MIC),
    Rule("PP080", "duplicate-nas-identifier", E, "two BSSes with one nas_identifier: accounting On/Off of one "
         "clears the other's sessions", HOSTAPD_CONF + " (nas_identifier)"),
    Rule("PP081", "no-nas-identifier", W, "a RADIUS BSS without nas_identifier", HOSTAPD_CONF),
    Rule("PP090", "proxy-arp-without-bridge", E, "proxy_arp=1 without bridge=: hostapd fails to start "
         "(x_snoop needs a bridge)", "hostapd 2.10 x_snoop.c"),
)}

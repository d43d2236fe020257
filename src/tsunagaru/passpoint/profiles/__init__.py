"""Passpoint client profiles: Apple .mobileconfig, Android x-wifi-config, Windows CarrierProvisioning and
wpa_supplicant blocks, built from :class:`~.model.ProfileSettings` and one device credential (see
docs/profiles.md). Pure apart from :mod:`.devices`, which makes per-device credentials in the IdP's store.
"""

"""Passpoint (Hotspot 2.0), pure code: RCOIs, venues, NAI realms, AP plans and their renderers, the hostapd
linter, and the device profiles (``profiles``)."""

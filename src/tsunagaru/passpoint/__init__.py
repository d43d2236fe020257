"""Passpoint (Hotspot 2.0): the AP side (RCOIs, venues, NAI realms, BSS plans, renderers, the linter) and
the client profiles; pure code over dataclasses, no I/O."""

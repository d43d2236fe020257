"""Passpoint: pure code for RCOIs, NAI realms, AP plans, their renderers, and the device profiles."""

"""Renderers of an :class:`~tsunagaru.passpoint.plan.ApPlan`: hostapd.conf, OpenWrt UCI ``wireless``, JSON.

Each goes plan -> converters (one per section, :mod:`.sections`) -> an ordered list of
(section, key, value) -> a small writer with its own quoting. Same plan, same bytes.
"""

"""Tsunagaru: an OpenRoaming platform for city-scale public Wi-Fi."""

__version__ = "0.1.0"

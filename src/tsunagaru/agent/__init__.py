"""The AP-side agent: pull the config, apply it, reload hostapd, report (Python standard library only).

It must run on an access point that has a Python but none of Tsunagaru's dependencies, so nothing here
imports outside the standard library (a test checks it). See docs/agent.md, also for the shell
equivalent on OpenWrt.
"""

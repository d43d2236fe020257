"""EAP methods, one module each, behind :class:`tsunagaru.eap.methods.base.EapMethod`."""

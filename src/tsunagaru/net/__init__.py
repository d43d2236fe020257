"""I/O adapters shared by the ANP and the IdP: a draining UDP socket, the RADIUS/UDP server front, and the
duplicate/replay cache (sans-IO) both services use."""

"""The IdP service: RADIUS front, EAP sessions, users and credentials, accounting."""

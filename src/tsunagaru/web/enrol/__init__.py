"""The enrolment portal: sign-up by e-mail code, one credential per device, profiles, my devices, staff.

``router.build_router(service)`` gives the pages under ``/enrol/`` and the JSON API under
``/api/v1/enrol/``; :mod:`.service` holds the flows over the store, :mod:`.rules` the pure decisions.
"""

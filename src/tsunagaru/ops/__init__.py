"""Operations, pure: per-AP activity, health rules, usage aggregates, incidents and their effects.

No sockets, no database, no clock: the ANP, the store and the web app adapt these (time passed in).
"""

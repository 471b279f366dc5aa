"""Routes: reading GPX safely, measuring and preparing routes, events and personal-route checks.

Knows nothing of tracking or maps. Everything here is pure except `bundled` and `event`
(which read files), so it can be tested with plain values.
"""

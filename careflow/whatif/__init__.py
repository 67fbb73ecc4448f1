"""``careflow rules whatif``: past inquiries run against an edited rule file, before it ships.

``recorded`` reads what people did from histories, ``fast`` runs the engine alone, ``full``
re-runs each inquiry as a workflow on the time-skipping test server, ``compare`` turns two sets
of outcomes into the report, ``gate`` reads ``--fail-if``.
"""

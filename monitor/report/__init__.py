"""The crime-data-integrity report: the audit's estimates and the ledger's timeliness census.

``figures`` gathers the numbers (also served on the board's Audit figures view),
``charts`` draws them (matplotlib), ``html`` and ``pdf`` lay them out
(Jinja2, ReportLab), ``command`` is ``cdi-monitor report``.
"""

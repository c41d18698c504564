"""The plan as the model reads it: programmes, money, tiers and indicators.

``catalogue`` (static: programmes, levers, phases, windows; the schema reads it),
``demand`` (fundable demand per programme, remote places), ``events`` (dated one-off
actions and the run's calendar of them), ``tiers`` (the tier vocabulary), ``evaluation``
(tier reviews, leading county, the 2025 targets, cost-effectiveness), ``indicators``
(every indicator, defined once) with ``readings`` (the Indicator type and the helpers
that read the model).
"""

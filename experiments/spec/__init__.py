"""Layer 1, the experiment as declared: spec file, levers, metrics, designs, ensembles, run plan.

Imports only ``sim``. Everything later layers need to know about a spec (its design
limits, sample-size rules, run seeds, the runs table's columns, the counties an ensemble
section stands for) is owned here.
"""

"""Logistics: parcels down and farm products up, on planned routes.

``parcels`` (the weekly parcel flow, carriers' village service, co-distribution),
``routing`` (delivery routes on the road graph, a fast heuristic checked against PyVRP),
``shapley`` (sharing a pooled route's cost among co-distribution members).
"""

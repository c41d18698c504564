"""Markets: how households spend and sell, week by week.

``channels`` (the shopping choice among village store, township centre, county town,
online and instant retail), ``logit`` (the shared choice arithmetic), ``calendar``
(seasonality and the Spring Festival), ``farm`` (selling farm output), ``adoption``
(online buying and selling spreading by training and neighbours), ``durables``
(appliances and new-energy vehicles, moved by vouchers and charging access).
"""

"""Markets: how households spend and sell, week by week.

``kinds`` (the vocabularies: shopping channels and farm sales channels), ``channels`` (the
shopping choice among village store, township centre, county town, online and instant
retail), ``sellers`` (what each seller offers and earns: basket ratios, the week's
booking, firms' expected revenues), ``logit`` (the shared choice arithmetic),
``calendar`` (seasonality and the Spring Festival), ``farm`` (selling farm output),
``adoption`` (online buying and selling spreading by training and neighbours),
``durables`` (appliances and new-energy vehicles, moved by vouchers and charging access).
"""

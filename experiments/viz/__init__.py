"""The live page (``countysim viz``): the SolaraViz app, its server, and its browser assets."""

"""napalm drivers netgen ships where no public driver is good enough.

They are importable through napalm itself — `napalm.get_network_driver("netgen_frr")` finds
`custom_napalm.netgen_frr` — so nornir_napalm tasks and users' own scripts use them like any
napalm driver. Platform descriptors (templates/<platform>/platform.yaml) name them.
"""

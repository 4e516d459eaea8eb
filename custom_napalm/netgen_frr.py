"""napalm finds netgen's FRR driver as `netgen_frr`: get_network_driver("netgen_frr") tries
`custom_napalm.netgen_frr` first (a namespace package: no __init__.py)."""
from netgen.deploy.drivers.frr import FrrDriver

__all__ = ["FrrDriver"]

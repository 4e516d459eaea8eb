"""napalm finds netgen's H3C Comware driver as `get_network_driver("netgen_comware")`."""
from netgen.deploy.drivers.comware import ComwareDriver

__all__ = ["ComwareDriver"]

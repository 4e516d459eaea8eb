"""napalm finds netgen's Huawei VRP driver as `get_network_driver("netgen_vrp")`."""
from netgen.deploy.drivers.vrp import VrpDriver

__all__ = ["VrpDriver"]

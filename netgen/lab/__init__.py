"""The lab: the intent's network on real FRR routers in Linux network namespaces.

`up(network, name, scope)` builds or updates it, `down(name)` removes everything it recorded,
`status(name)` reports routers, daemons and BGP sessions. See topology.py for what is built.
"""
from .lab import UpResult, down, status, up
from .system import LabError
from .topology import Topology, build_topology

__all__ = ["up", "down", "status", "UpResult", "LabError", "Topology", "build_topology"]

"""A running lab as the rest of netgen sees it: its recorded state, which design and platform
it runs, where its commands run, and the topology it was built from — for deploy and verify."""
from __future__ import annotations

from dataclasses import dataclass

from ..model.types import Network
from .runner import GuestRunner, LocalRunner, Runner
from .state import LabState
from .system import LabError

PLATFORM = {"mpls": "frr_mpls", "lite": "frr"}  # the FRR rendering each lab design runs


@dataclass
class Lab:
    state: LabState

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def platform(self) -> str:
        return PLATFORM[self.state.design]

    @property
    def runner(self) -> Runner:
        if self.state.where == "guest":
            from .guest import Guest

            return GuestRunner(Guest(self.name))
        return LocalRunner()

    def topology(self, network: Network):
        """The topology the lab was built with (its scope), for probes and checks."""
        if self.state.design == "mpls":
            from .mpls_topology import build_mpls_topology

            return build_mpls_topology(network, self.state.prefix, self.state.scope or None)
        from .topology import build_topology

        return build_topology(network, self.state.prefix, self.state.scope or None)


    def ipsec_links(self, network: Network, topology=None) -> list:
        """The lab's Internet-carried links as IPsec tunnels (the MPLS design only)."""
        if self.state.design != "mpls":
            return []
        from .mpls import ipsec_links

        return ipsec_links(network, topology or self.topology(network), self.state)


def open_lab(name: str) -> Lab:
    """The running lab `name`; LabError if there is none."""
    try:
        state = LabState.load(name)
    except ValueError as exc:
        raise LabError(str(exc)) from None
    if state is None:
        raise LabError(f"lab `{name}` is not running: `netgen lab up --name {name}` first")
    return Lab(state)

"""Lupa's testbed: a deterministic network of simulated transparency portals on loopback,
with the ground truth an audit of it must reproduce.

Public API::

    from testbed import generate_network, serve_in_thread, start_subprocess
    net = generate_network(seed=1, size=50)          # spec only: cheap
    net.write("out/")                                 # registry.csv, ground_truth/, network.json
    with serve_in_thread(net) as handle:              # every portal on 127.x.y.z:8080
        ...
    later = net.at_generation(2)                      # re-published later (testbed.history)

See ``testbed/README.md`` for families, defects and the ground-truth rules.
"""

from testbed.network import Network, generate_network
from testbed.server import serve_in_thread, start_subprocess

__all__ = ["Network", "generate_network", "serve_in_thread", "start_subprocess"]

"""Command line: ``python -m testbed generate|serve`` (exposed by Lupa as ``lupa testbed``).

``generate`` writes the registry, the ground truth and ``network.json``; ``serve`` writes
them too, prints where they are and the first portal URLs, then serves every portal until
SIGINT or SIGTERM. The ground truth holds on the testbed's audit date ``AS_OF`` (2025-11-15,
also in ``ground_truth/as_of.txt``): audit the network with ``--as-of`` that date.
``--faults`` generates or serves the fault catalog instead (``testbed.fault_catalog``: one
portal per hostile-server or malicious-file fault, and a healthy control).
``--generation 2`` generates or serves the same network re-published later
(``testbed.history``), with ``ground_truth/generation.txt`` and ``changes.csv``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from testbed.history import MAX_GENERATION
from testbed.model import AS_OF
from testbed.network import generate_network

DEFAULT_BASE = "127.20.0.1"


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("generate", "write registry and ground truth only"),
                       ("serve", "write, then serve every portal on loopback")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--seed", type=int, default=1, help="generation seed (default 1)")
        cmd.add_argument("--size", type=int, default=50,
                         help="number of portals, 1 to 8646 (default 50)")
        cmd.add_argument("--port", type=int, default=8080, help="port on every portal address")
        cmd.add_argument("--base", default=DEFAULT_BASE,
                         help="first portal address in 127.0.0.0/8 (default 127.20.0.1)")
        cmd.add_argument("--out", default="testbed-out",
                         help="where registry.csv, network.json and ground_truth/ go")
        cmd.add_argument("--generation", type=int, default=1, choices=range(1, MAX_GENERATION + 1),
                         metavar="N", help="1: as first published (default); 2: the same "
                         "network re-published later, with updated, silently edited and "
                         "removed documents")
        cmd.add_argument("--faults", action="store_true",
                         help="the fault catalog instead (testbed.fault_catalog: one portal "
                         "per fault, from 127.31.0.1 unless --base says otherwise; --seed, "
                         "--size and --generation do not apply)")
        if name == "serve":
            cmd.add_argument("--workers", type=int, default=4, help="request worker threads")
    return parser


def _write(args: argparse.Namespace):
    started = time.monotonic()
    if args.faults:
        from testbed.fault_catalog import BASE, generate_fault_catalog

        base = args.base if args.base != DEFAULT_BASE else BASE
        network = generate_fault_catalog(args.port, base)
        paths = network.write(Path(args.out))
        print(f"testbed: fault catalog, {network.size} portals from {base}, written in "
              f"{time.monotonic() - started:.1f} s (audit with --as-of {AS_OF})")
        for name, path in paths.items():
            print(f"  {name}: {path}")
        return network
    network = generate_network(args.seed, args.size, args.base, args.port,
                               generation=args.generation)
    paths = network.write(Path(args.out))
    elapsed = time.monotonic() - started
    which = f", generation {args.generation}" if args.generation > 1 else ""
    print(f"testbed: {args.size} portals (seed {args.seed}{which}) written in {elapsed:.1f} s; "
          f"the ground truth holds as of {AS_OF.isoformat()} (audit with --as-of {AS_OF})")
    for name, path in paths.items():
        print(f"  {name}: {path}")
    return network


def main(argv: list[str] | None = None, prog: str = "testbed") -> int:
    """Entry point; returns the exit status."""
    args = _parser(prog).parse_args(argv)
    network = _write(args)
    if args.command == "generate":
        return 0
    from testbed.server import describe, serve_forever

    def ready(server) -> None:
        soft, _hard = server.limits
        print(f"serving {len(server.portals)} portals on port {args.port} "
              f"(file descriptor limit {soft}); first portals:")
        print(describe(network))
        print("stop with Ctrl+C", flush=True)

    try:
        serve_forever(network, args.workers, on_ready=ready)
    except OSError as exc:
        print(f"testbed: {exc}", file=sys.stderr)
        return 1
    return 0

"""Run the example controller alone against an API server, e.g. a ``kframe up``::

    python examples/controller/run.py --kubeconfig .kframe/kubeconfig

It elects itself on a Lease of its own (``kube-system/podnode-controller``), so several copies
may run and only one labels pods, and it does not contend with the cluster's controller manager.
Stops on SIGINT or SIGTERM. Installed as a plugin instead (``pip install -e examples/controller``),
the same controller runs inside ``kframe up`` and ``kframe controller-manager``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # kframe_podnode, when not installed

import yaml
from kframe_podnode import spec

from kframe.client import HttpClient
from kframe.controller import ControllerManager, LeaderElection, default_identity


def server_of(kubeconfig: Path) -> str:
    """The server URL of the kubeconfig's current context (what ``kframe up`` writes)."""
    config = yaml.safe_load(kubeconfig.read_text())
    context = next(
        c["context"] for c in config["contexts"] if c["name"] == config["current-context"]
    )
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    return str(cluster["server"])


async def main(server: str, label: str | None) -> None:
    client = HttpClient(server)
    manager = ControllerManager(
        client,
        {"podnode": spec()},
        options={"podnode-label": label} if label else None,
        leader_election=LeaderElection(name="podnode-controller", identity=default_identity()),
    )
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    task = asyncio.ensure_future(manager.run())
    print(f"podnode controller: labelling pods on {server}", flush=True)
    try:
        await asyncio.wait(
            {task, asyncio.ensure_future(stopping.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.close()
    if task.done() and not task.cancelled() and task.exception() is not None:
        raise SystemExit(f"podnode controller: {task.exception()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, default=Path(".kframe/kubeconfig"))
    parser.add_argument("--label", help="the label key to write (default example.kframe.io/node)")
    args = parser.parse_args()
    asyncio.run(main(server_of(args.kubeconfig), args.label))

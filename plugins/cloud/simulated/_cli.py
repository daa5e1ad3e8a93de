"""``kframe cloud-simulated``: the simulated cloud's console.

::

    kframe cloud-simulated [--db PATH | --cloud-config FILE] instances add NAME [--type T]
        [--zone Z] [--region R] [--internal-ip IP] [--external-ip IP]
    kframe cloud-simulated ... instances stop|start|delete NAME
    kframe cloud-simulated ... instances list
    kframe cloud-simulated ... load-balancers list
    kframe cloud-simulated ... routes list

Lists print one tab-separated row per object after a header line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kframe.cli import CommandError

from ._provider import SimulatedConfig, load_config
from ._state import RUNNING, STOPPED, State

__all__ = ["SimulatedCloudCommand"]


class SimulatedCloudCommand:
    help = "add, stop and delete instances of the simulated cloud; list its load balancers"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--db", type=Path, metavar="PATH", help="the cloud's database (default as the config)"
        )
        where.add_argument(
            "--cloud-config",
            type=Path,
            metavar="FILE",
            help="the provider's config file, as given to the cloud controller manager",
        )
        what = parser.add_subparsers(dest="resource", metavar="RESOURCE", required=True)
        instances = what.add_parser("instances", help="the cloud's machines")
        verbs = instances.add_subparsers(dest="verb", metavar="VERB", required=True)
        add = verbs.add_parser("add", help="start a new instance (named as its node)")
        add.add_argument("name")
        add.add_argument("--type", default="", help="instance type (default: the config's)")
        add.add_argument("--zone", default="", help="zone (default: the config's)")
        add.add_argument("--region", default="", help="region (default: the config's)")
        add.add_argument("--internal-ip", default="127.0.0.1", metavar="IP")
        add.add_argument("--external-ip", default="", metavar="IP")
        for verb, text in (
            ("stop", "shut an instance down (its node is tainted as shut down)"),
            ("start", "start a stopped instance"),
            ("delete", "delete an instance (its node is deleted)"),
        ):
            verbs.add_parser(verb, help=text).add_argument("name")
        verbs.add_parser("list", help="list instances")
        for resource, text in (("load-balancers", "load balancers"), ("routes", "routes")):
            sub = what.add_parser(resource, help=text)
            sub.add_subparsers(dest="verb", metavar="VERB", required=True).add_parser(
                "list", help=f"list {text}"
            )

    def run(self, args: argparse.Namespace) -> int:
        try:
            config = load_config(args.cloud_config)
        except ValueError as exc:
            raise CommandError(str(exc), exit_code=2) from None
        state = State(args.db or config.db)
        try:
            if args.resource == "instances":
                return self._instances(args, state, config)
            if args.resource == "load-balancers":
                print("CLUSTER\tNAME\tSERVICE\tADDRESS\tPORTS")
                for lb in state.load_balancers():
                    ports = ",".join(
                        f"{p}->{'|'.join(f'{b.address}:{b.port}' for b in bs) or '-'}"
                        for p, bs in sorted(lb.ports.items())
                    )
                    print(f"{lb.cluster}\t{lb.name}\t{lb.service}\t{lb.address}\t{ports}")
                return 0
            print("CLUSTER\tNAME\tTARGET\tCIDR")
            for route in state.all_routes():
                print(f"{route.cluster}\t{route.name}\t{route.target_node}\t{route.cidr}")
            return 0
        except KeyError as exc:
            raise CommandError(str(exc.args[0])) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    def _instances(self, args: argparse.Namespace, state: State, config: SimulatedConfig) -> int:
        if args.verb == "add":
            instance = state.add_instance(
                args.name,
                type=args.type or config.instance_type,
                zone=args.zone or config.zone,
                region=args.region or config.region,
                internal_ip=args.internal_ip,
                external_ip=args.external_ip,
            )
            print(f"instance {instance.name} added ({instance.id}, {instance.zone})")
        elif args.verb in ("stop", "start"):
            state.set_state(args.name, STOPPED if args.verb == "stop" else RUNNING)
            print(f"instance {args.name} {'stopped' if args.verb == 'stop' else 'started'}")
        elif args.verb == "delete":
            state.delete_instance(args.name)
            print(f"instance {args.name} deleted")
        else:
            print("NAME\tID\tTYPE\tZONE\tREGION\tSTATE\tINTERNAL-IP\tEXTERNAL-IP")
            for i in state.instances():
                print(
                    f"{i.name}\t{i.id}\t{i.type}\t{i.zone}\t{i.region}\t{i.state}\t"
                    f"{i.internal_ip}\t{i.external_ip or '-'}"
                )
        return 0

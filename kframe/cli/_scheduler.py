"""``kframe scheduler``: the scheduler's commands (``explain`` today, offline)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kframe.api import load_yaml
from kframe.cli._command import CommandError
from kframe.registry import Registry
from kframe.scheduler import ConfigError, explain_objects, load_config, registry_factories

__all__ = ["SchedulerCommand"]


class SchedulerCommand:
    help = "scheduler commands: explain where a pod would go and why (offline)"

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="scheduler_command", metavar="COMMAND", required=True)
        explain = sub.add_parser(
            "explain",
            help="evaluate every node for one pod of a cluster file and print JSON",
            description="Evaluate every node of CLUSTER.yaml (Nodes, Pods; pods with "
            "spec.nodeName are bound) for the named pod, with the scheduler's plugins, and "
            "print one JSON object: each node's filter verdict and scores, and the node the "
            "scheduler would pick. No server is needed.",
        )
        explain.add_argument(
            "-f",
            "--filename",
            type=Path,
            required=True,
            metavar="CLUSTER.yaml",
            help="multi-document YAML holding Nodes and Pods (and Namespaces, Services, ...)",
        )
        explain.add_argument(
            "--pod", required=True, metavar="NAMESPACE/NAME", help="the pod to schedule"
        )
        explain.add_argument(
            "--config",
            type=Path,
            metavar="CONFIG.yaml",
            help="a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1); default: "
            "kube-scheduler's default profile",
        )
        explain.add_argument(
            "--seed",
            type=int,
            default=0,
            help="seed of the tie-break among equally scored nodes (default 0)",
        )

    def run(self, args: argparse.Namespace) -> int:
        try:
            config = load_config(args.config)
            objects = load_yaml(args.filename.read_text())
            document = explain_objects(
                objects,
                args.pod,
                config=config,
                factories=registry_factories(self._registry),
                seed=args.seed,
            )
        except (ConfigError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0

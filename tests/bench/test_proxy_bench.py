"""``kframe bench proxy`` prints one JSON object with its documented fields."""

from __future__ import annotations

import argparse
import json

from kframe.bench import TARGETS
from kframe.bench._proxy import bench_objects
from kframe.proxy import endpoints_from_slices, service_port_infos
from tests.cli.test_cli import kframe


def test_bench_proxy_runs_small() -> None:
    result = kframe("bench", "proxy", "--services", "20", "--endpoints", "3", "--repeat", "2")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.strip().splitlines()
    doc = json.loads(line)
    assert (doc["services"], doc["endpoints_per_service"], doc["endpoints"]) == (20, 3, 60)
    assert doc["mode"] == "iptables" and doc["applied"] is False and doc["syncs"] == 2
    for key in (
        "ingest_s",
        "full_sync_median_s",
        "full_sync_max_s",
        "sync_after_one_change_s",
        "nat_lines",
        "restore_bytes",
        "nat_chains",
        "meets_target",
    ):
        assert key in doc
    assert doc["target_s"] == 1.0


def test_the_default_workload_is_1000_services_of_10_endpoints() -> None:
    parser = argparse.ArgumentParser()
    TARGETS["proxy"]().configure(parser)
    args = parser.parse_args([])
    assert (args.services, args.endpoints) == (1000, 10)


def test_bench_objects_are_distinct_and_proxied() -> None:
    services, slices = bench_objects(300, 10)
    ips = {s.spec.cluster_ip for s in services if s.spec}
    assert len(ips) == 300
    endpoints = {ep for s in slices for e in s.endpoints for ep in e.addresses}
    assert len(endpoints) == 3000
    assert all(service_port_infos(s) for s in services)
    assert all(endpoints_from_slices([e]) for e in slices)

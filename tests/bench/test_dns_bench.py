"""``kframe bench dns`` prints one JSON object with its documented fields."""

from __future__ import annotations

import argparse
import json

import pytest

from kframe.bench import TARGETS
from kframe.bench._dns import dns_bench_objects


def test_bench_dns_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    target = TARGETS["dns"]()
    target.configure(parser)
    args = parser.parse_args(
        ["--services", "50", "--headless", "3", "--endpoints", "4", "--queries", "200"]
    )
    assert target.run(args) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    doc = json.loads(line)
    assert (doc["services"], doc["headless"], doc["endpoints_per_headless"]) == (50, 3, 4)
    # 50 A + 50 SRV + 50 PTR; per headless: A, SRV, and per endpoint a host A and a PTR.
    assert doc["records"] == 150 + 3 * (2 + 4 * 2)
    assert doc["queries"] == 200 and doc["lost"] == 0
    for key in ("load_s", "lookup_first_us", "lookup_us", "udp_qps", "udp_p50_ms", "udp_p99_ms"):
        assert doc[key] >= 0


def test_the_default_workload_is_10000_services() -> None:
    parser = argparse.ArgumentParser()
    TARGETS["dns"]().configure(parser)
    args = parser.parse_args([])
    assert (args.services, args.headless, args.endpoints) == (10000, 100, 10)


def test_bench_objects_are_distinct() -> None:
    services, slices = dns_bench_objects(300, 5, 10)
    ips = {s.spec.cluster_ip for s in services if s.spec and s.spec.cluster_ip != "None"}
    assert len(ips) == 300
    assert len({ip for s in slices for e in s.endpoints for ip in e.addresses}) == 50

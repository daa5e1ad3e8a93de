"""Every manifest under examples/ round-trips exactly and is valid for Kubernetes' schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kframe.api import Unstructured, from_dict, load_yaml, to_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Scheduler configurations are component config, not API objects: they load as such.
SCHEDULER_CONFIGS = sorted(
    p for p in EXAMPLES.rglob("*.yaml") if "kind: KubeSchedulerConfiguration" in p.read_text()
)
MANIFESTS = sorted(set(EXAMPLES.rglob("*.yaml")) - set(SCHEDULER_CONFIGS))


@pytest.mark.parametrize("path", SCHEDULER_CONFIGS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_scheduler_configurations_load(path: Path) -> None:
    from kframe.scheduler import load_config

    assert load_config(path).profiles


def test_every_kind_has_an_example() -> None:
    from kframe.api import models

    kinds = {
        (d["apiVersion"], d["kind"])
        for p in MANIFESTS
        for d in yaml.safe_load_all(p.read_text())
        if d
    }
    missing = {k for k in models.KINDS if k not in kinds and not k[1].endswith("List")}
    # Discovery documents and meta kinds without objects of their own are not manifests.
    missing -= {
        ("v1", "APIGroup"),
        ("v1", "APIGroupList"),
        ("v1", "APIResourceList"),
        ("v1", "APIVersions"),
        ("v1", "WatchEvent"),
        ("v1", "DeleteOptions"),
        ("v1", "Condition"),
    }
    assert not missing


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_manifest_roundtrips_exactly(path: Path) -> None:
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
    objects = load_yaml(path.read_text(), strict=True)
    assert len(objects) == len(documents)
    for doc, obj in zip(documents, objects, strict=True):
        assert not isinstance(obj, Unstructured), f"{doc['kind']} is not modelled"
        assert to_dict(obj) == doc
        assert from_dict(to_dict(obj)) == obj

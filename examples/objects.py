"""Load Kubernetes YAML into typed objects, change one, and write it back.

Run: .venv/bin/python examples/objects.py
"""

from __future__ import annotations

from pathlib import Path

import attrs

from kframe.api import (
    DecodeError,
    Quantity,
    dump_yaml,
    from_dict,
    load_yaml,
    models,
    parse_label_selector,
)

HERE = Path(__file__).parent


def main() -> None:
    [deployment] = load_yaml((HERE / "manifests/apps/deployment.yaml").read_text())
    assert isinstance(deployment, models.Deployment)
    assert deployment.spec is not None and deployment.spec.template is not None
    pod_spec = deployment.spec.template.spec
    assert pod_spec is not None
    containers = pod_spec.containers

    # Total CPU the Deployment's pods request, with Kubernetes' exact arithmetic.
    per_pod = sum(
        (c.resources.requests.get("cpu", Quantity(0)) for c in containers if c.resources),
        Quantity(0),
    )
    replicas = deployment.spec.replicas or 1
    print(
        f"{deployment.metadata.name if deployment.metadata else '?'}: "
        f"{replicas} x {per_pod} cpu = {per_pod * replicas}"
    )

    # Objects are immutable: attrs.evolve makes a changed copy.
    scaled = attrs.evolve(deployment, spec=attrs.evolve(deployment.spec, replicas=replicas * 2))
    print(dump_yaml(scaled).splitlines()[0], "... replicas:", scaled.spec and scaled.spec.replicas)

    # Label selectors as kubectl -l parses them.
    selector = parse_label_selector("app=web,tier in (frontend,backend),!canary")
    print(selector, "matches", selector.matches({"app": "web", "tier": "frontend"}))

    # Bad input names the field.
    try:
        from_dict({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"image": 5}]}})
    except DecodeError as exc:
        print("error:", exc)


if __name__ == "__main__":
    main()

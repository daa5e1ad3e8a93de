"""The public API is pinned: adding or removing a name is a deliberate change to this file."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "kframe": ["__version__"],
    "kframe.api": [
        "models",
        "Unstructured",
        "all_kinds",
        "class_for",
        "register_kind",
        "DecodeError",
        "from_dict",
        "to_dict",
        "load_yaml",
        "load_yaml_documents",
        "dump_yaml",
        "decode_protobuf",
        "encode_protobuf",
        "Quantity",
        "QuantityError",
        "IntOrString",
        "JSONObject",
        "Time",
        "MicroTime",
        "parse_time",
        "format_time",
        "format_micro_time",
        "time_now",
        "micro_time_now",
        "ResourceList",
        "resource_list",
        "pod_requests",
        "pod_limits",
        "Selector",
        "Requirement",
        "SelectorError",
        "parse_label_selector",
        "selector_from_set",
        "selector_from_label_selector",
        "FieldSelector",
        "parse_field_selector",
        "is_dns1123_label",
        "is_dns1123_subdomain",
        "is_dns1035_label",
        "is_qualified_name",
        "is_valid_label_value",
        "is_valid_port_num",
    ],
    "kframe.registry": [
        "DuplicateNameError",
        "Kind",
        "PluginError",
        "PluginLoadError",
        "Registration",
        "Registry",
        "UnknownNameError",
        "build_registry",
        "hookimpl",
    ],
    "kframe.cli": ["Command", "CommandError", "main"],
    "kframe.client": [
        "Client",
        "HttpClient",
        "InProcessClient",
        "Indexer",
        "Informer",
        "ObjectList",
        "PatchType",
        "WatchEvent",
        "object_key",
        "WorkQueue",
        "ShutDown",
        "RateLimiter",
        "ItemExponentialFailureRateLimiter",
        "ItemFastSlowRateLimiter",
        "BucketRateLimiter",
        "MaxOfRateLimiter",
        "default_controller_rate_limiter",
        "Clock",
        "TimerHandle",
        "LoopClock",
        "FakeClock",
        "LeaderElectionConfig",
        "LeaderElectionRecord",
        "LeaderElector",
    ],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(PUBLIC[module])
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name} is in __all__ but missing"


def test_testing_exports_a_strategy_per_kind() -> None:
    import kframe.testing as t

    for name in t.__all__:
        assert hasattr(t, name)
    assert {"pods", "nodes", "deployments", "quantities", "objects", "require"} <= set(t.__all__)

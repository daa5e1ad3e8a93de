"""Typed Kubernetes objects and their JSON/YAML form: the layer every other part builds on.

- Models: ``kframe.api.models`` (``Pod``, ``Deployment``, ...), frozen attrs classes with
  snake_case attributes and explicit JSON names; change them with :func:`evolve` (or
  ``attrs.evolve``, the same, slower).
- Edges: :func:`from_dict`, :func:`to_dict`, :func:`load_yaml`, :func:`dump_yaml`; bad input
  raises :class:`DecodeError` naming the JSON path of the bad field.
- Values: :class:`Quantity`, ``IntOrString``, ``Time``/``MicroTime``; label and field selectors;
  the name validators Kubernetes applies.

This package imports nothing else from kframe.
"""

from kframe.api import models
from kframe.api._codec import DecodeError
from kframe.api._evolve import evolve
from kframe.api._fields import FieldSelector, parse_field_selector
from kframe.api._kinds import all_kinds, class_for, register_kind
from kframe.api._labels import (
    Requirement,
    Selector,
    SelectorError,
    parse_label_selector,
    selector_from_label_selector,
    selector_from_set,
)
from kframe.api._nodeaffinity import (
    NodeSelectorMatcher,
    NodeSelectorTermMatcher,
    PreferredSchedulingTermsMatcher,
    RequiredNodeAffinity,
    compile_node_selector,
    compile_preferred_scheduling_terms,
)
from kframe.api._objects import from_dict, to_dict
from kframe.api._podresources import ResourceList, pod_limits, pod_requests, resource_list
from kframe.api._protobuf import decode_protobuf, encode_protobuf
from kframe.api._quantity import Quantity, QuantityError
from kframe.api._taints import (
    DO_NOT_SCHEDULE_TAINT_EFFECTS,
    CompiledToleration,
    compile_tolerations,
    compiled_toleration_tolerates,
    find_untolerated_taint,
    toleration_tolerates_taint,
)
from kframe.api._types import (
    IntOrString,
    JSONObject,
    MicroTime,
    Time,
    format_micro_time,
    format_time,
    micro_time_now,
    parse_time,
    time_now,
)
from kframe.api._unstructured import Unstructured
from kframe.api._validation import (
    go_quote,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    is_valid_port_num,
)
from kframe.api._yaml import dump_yaml, load_yaml, load_yaml_documents

__all__ = [
    # models and kinds
    "models",
    "Unstructured",
    "all_kinds",
    "class_for",
    "register_kind",
    "evolve",
    # conversion
    "DecodeError",
    "from_dict",
    "to_dict",
    "load_yaml",
    "load_yaml_documents",
    "dump_yaml",
    "decode_protobuf",
    "encode_protobuf",
    # values
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
    # resources
    "ResourceList",
    "resource_list",
    "pod_requests",
    "pod_limits",
    # selectors
    "Selector",
    "Requirement",
    "SelectorError",
    "parse_label_selector",
    "selector_from_set",
    "selector_from_label_selector",
    "FieldSelector",
    "parse_field_selector",
    # node affinity and taints (component-helpers)
    "RequiredNodeAffinity",
    "NodeSelectorMatcher",
    "NodeSelectorTermMatcher",
    "PreferredSchedulingTermsMatcher",
    "compile_node_selector",
    "compile_preferred_scheduling_terms",
    "CompiledToleration",
    "DO_NOT_SCHEDULE_TAINT_EFFECTS",
    "compile_tolerations",
    "compiled_toleration_tolerates",
    "toleration_tolerates_taint",
    "find_untolerated_taint",
    # validation
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_dns1035_label",
    "is_qualified_name",
    "is_valid_label_value",
    "is_valid_port_num",
    "go_quote",
]

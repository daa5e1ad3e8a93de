"""Enumerated string fields of the modelled Kubernetes kinds (read by gen_models.py).

The OpenAPI JSON schema that ``gen_models.py`` reads carries no enum information, so the closed
value sets are listed here by hand, taken from upstream Kubernetes as of v1.33:

* types marked ``+enum`` in ``k8s.io/api/<group>/<version>/types.go`` (and the apimachinery
  ``meta/v1`` and ``watch`` constants), and
* fields whose values the API server's validation (``pkg/apis/<group>/validation``,
  ``apimachinery/pkg/apis/meta/v1/validation``) rejects with "Unsupported value" (or an
  equivalent "not a valid ..." error) when they are outside a fixed set.

Left out on purpose: free-form strings (condition types, reasons, ``Event.type``, ``Secret.type``),
``ConditionStatus`` fields, and types upstream leaves open to extension even where it names a few
values (``NodeAddress.type``, which cloud providers may extend; ``LimitRangeItem.type`` and
``LeaseSpec.strategy``, which accept domain-prefixed custom names; ``EmptyDirVolumeSource.medium``,
which accepts ``HugePages-<size>``; ``PodStatus.resize`` and ``ResourceHealth.health``, which
neither carry ``+enum`` nor are checked by validation).

Run ``python tools/enums.py`` to check every key against the schema.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

# Shared value sets, one per upstream enum type, in upstream's declaration order.

# core/v1 Protocol (+enum); validation `supportedPortProtocols`.
_PROTOCOL = ("TCP", "UDP", "SCTP")
# core/v1 PullPolicy (+enum); validation `validatePullPolicy`.
_PULL_POLICY = ("Always", "Never", "IfNotPresent")
# core/v1 TerminationMessagePolicy (+enum); validation `validateContainerCommon`.
_TERMINATION_MESSAGE_POLICY = ("File", "FallbackToLogsOnError")
# core/v1 ContainerRestartPolicy (+enum): its only value in v1.33 ("Never" and "OnFailure" came
# with v1.34).
_CONTAINER_RESTART_POLICY = ("Always",)
# core/v1 RecursiveReadOnlyMode (+enum); validation `validateMountRecursiveReadOnly`.
_RECURSIVE_READ_ONLY = ("Disabled", "IfPossible", "Enabled")
# core/v1 PreemptionPolicy (+enum); validation `ValidatePreemptionPolicy`.
_PREEMPTION_POLICY = ("PreemptLowerPriority", "Never")
# core/v1 PersistentVolumeAccessMode (+enum); validation `supportedAccessModes`.
_ACCESS_MODE = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
# core/v1 PersistentVolumeMode (+enum); validation `supportedVolumeModes`.
_VOLUME_MODE = ("Block", "Filesystem")
# core/v1 TaintEffect (+enum); validation `validateTaintEffect` (NoScheduleNoAdmit is commented
# out upstream).
_TAINT_EFFECT = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# core/v1 NodeInclusionPolicy (+enum); validation `supportedPodTopologySpreadNodePolicies`.
_NODE_INCLUSION_POLICY = ("Ignore", "Honor")
# core/v1 SeccompProfileType / AppArmorProfileType (+enum); validation
# `validateSeccompProfileType`, `ValidateAppArmorProfileField`.
_PROFILE_TYPE = ("Unconfined", "RuntimeDefault", "Localhost")
# core/v1 ResourceQuotaScope (+enum); validation `helper.IsStandardResourceQuotaScope`.
_RESOURCE_QUOTA_SCOPE = (
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
    "VolumeAttributesClass",
)
# core/v1 Signal (+enum, v1.33); validation `supportedStopSignalsLinux` (Windows: a subset).
_SIGNAL = (
    "SIGABRT",
    "SIGALRM",
    "SIGBUS",
    "SIGCHLD",
    "SIGCLD",
    "SIGCONT",
    "SIGFPE",
    "SIGHUP",
    "SIGILL",
    "SIGINT",
    "SIGIO",
    "SIGIOT",
    "SIGKILL",
    "SIGPIPE",
    "SIGPOLL",
    "SIGPROF",
    "SIGPWR",
    "SIGQUIT",
    "SIGSEGV",
    "SIGSTKFLT",
    "SIGSTOP",
    "SIGSYS",
    "SIGTERM",
    "SIGTRAP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGUSR1",
    "SIGUSR2",
    "SIGVTALRM",
    "SIGWINCH",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGRTMIN",
    "SIGRTMIN+1",
    "SIGRTMIN+2",
    "SIGRTMIN+3",
    "SIGRTMIN+4",
    "SIGRTMIN+5",
    "SIGRTMIN+6",
    "SIGRTMIN+7",
    "SIGRTMIN+8",
    "SIGRTMIN+9",
    "SIGRTMIN+10",
    "SIGRTMIN+11",
    "SIGRTMIN+12",
    "SIGRTMIN+13",
    "SIGRTMIN+14",
    "SIGRTMIN+15",
    "SIGRTMAX-14",
    "SIGRTMAX-13",
    "SIGRTMAX-12",
    "SIGRTMAX-11",
    "SIGRTMAX-10",
    "SIGRTMAX-9",
    "SIGRTMAX-8",
    "SIGRTMAX-7",
    "SIGRTMAX-6",
    "SIGRTMAX-5",
    "SIGRTMAX-4",
    "SIGRTMAX-3",
    "SIGRTMAX-2",
    "SIGRTMAX-1",
    "SIGRTMAX",
)
# apps/v1 StatefulSetUpdateStrategyType / DaemonSetUpdateStrategyType (+enum).
_ROLLING_OR_ON_DELETE = ("RollingUpdate", "OnDelete")
# apps/v1 PersistentVolumeClaimRetentionPolicyType (+enum).
_PVC_RETENTION_POLICY = ("Retain", "Delete")
# autoscaling/v2 MetricSourceType (+enum); validation `validMetricSourceTypes`.
_METRIC_SOURCE_TYPE = ("Object", "Pods", "Resource", "ContainerResource", "External")
# meta/v1 LabelSelectorOperator; validation `ValidateLabelSelectorRequirement`.
_LABEL_SELECTOR_OPERATOR = ("In", "NotIn", "Exists", "DoesNotExist")

_CORE = "io.k8s.api.core.v1."
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."

# Maps (definition name, JSON property name) -> allowed values, in upstream's order.
# For an array property the values constrain its items.
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    # ---- core/v1: pods and containers (k8s.io/api/core/v1/types.go) ----
    # RestartPolicy (+enum); validation `validateRestartPolicy`.
    (_CORE + "PodSpec", "restartPolicy"): ("Always", "OnFailure", "Never"),
    # DNSPolicy (+enum); validation `validateDNSPolicy`.
    (_CORE + "PodSpec", "dnsPolicy"): (
        "ClusterFirstWithHostNet",
        "ClusterFirst",
        "Default",
        "None",
    ),
    (_CORE + "PodSpec", "preemptionPolicy"): _PREEMPTION_POLICY,
    # PodPhase (+enum).
    (_CORE + "PodStatus", "phase"): ("Pending", "Running", "Succeeded", "Failed", "Unknown"),
    # PodQOSClass (+enum).
    (_CORE + "PodStatus", "qosClass"): ("Guaranteed", "Burstable", "BestEffort"),
    # OSName; validation `validOS` / `validateOS`.
    (_CORE + "PodOS", "name"): ("linux", "windows"),
    (_CORE + "Container", "imagePullPolicy"): _PULL_POLICY,
    (_CORE + "EphemeralContainer", "imagePullPolicy"): _PULL_POLICY,
    (_CORE + "ImageVolumeSource", "pullPolicy"): _PULL_POLICY,
    (_CORE + "Container", "terminationMessagePolicy"): _TERMINATION_MESSAGE_POLICY,
    (_CORE + "EphemeralContainer", "terminationMessagePolicy"): _TERMINATION_MESSAGE_POLICY,
    # ContainerRestartPolicy; only init containers may set it
    # (`validateInitContainerRestartPolicy`).
    (_CORE + "Container", "restartPolicy"): _CONTAINER_RESTART_POLICY,
    # Same Go type; validation forbids setting it on ephemeral containers at all.
    (_CORE + "EphemeralContainer", "restartPolicy"): _CONTAINER_RESTART_POLICY,
    # ResourceName restricted by validation `supportedResizeResources`.
    (_CORE + "ContainerResizePolicy", "resourceName"): ("cpu", "memory"),
    # ResourceResizeRestartPolicy (+enum); validation `supportedResizePolicies`.
    (_CORE + "ContainerResizePolicy", "restartPolicy"): ("NotRequired", "RestartContainer"),
    (_CORE + "ContainerPort", "protocol"): _PROTOCOL,
    # URIScheme (+enum); validation `supportedHTTPSchemes`.
    (_CORE + "HTTPGetAction", "scheme"): ("HTTP", "HTTPS"),
    # Signal (+enum), v1.33 ContainerStopSignals.
    (_CORE + "Lifecycle", "stopSignal"): _SIGNAL,
    (_CORE + "ContainerStatus", "stopSignal"): _SIGNAL,
    # MountPropagationMode (+enum); validation `validateMountPropagation`.
    (_CORE + "VolumeMount", "mountPropagation"): ("None", "HostToContainer", "Bidirectional"),
    (_CORE + "VolumeMount", "recursiveReadOnly"): _RECURSIVE_READ_ONLY,
    (_CORE + "VolumeMountStatus", "recursiveReadOnly"): _RECURSIVE_READ_ONLY,
    # ---- core/v1: security contexts ----
    # ProcMountType (+enum); validation `ValidateProcMountType`.
    (_CORE + "SecurityContext", "procMount"): ("Default", "Unmasked"),
    (_CORE + "SeccompProfile", "type"): _PROFILE_TYPE,
    (_CORE + "AppArmorProfile", "type"): _PROFILE_TYPE,
    # PodFSGroupChangePolicy (+enum); validation `validFSGroupChangePolicies`.
    (_CORE + "PodSecurityContext", "fsGroupChangePolicy"): ("OnRootMismatch", "Always"),
    # SupplementalGroupsPolicy (+enum); validation `validSupplementalGroupsPolicies`.
    (_CORE + "PodSecurityContext", "supplementalGroupsPolicy"): ("Merge", "Strict"),
    # PodSELinuxChangePolicy; validation `validateSELinuxChangePolicy` (v1.32+).
    (_CORE + "PodSecurityContext", "seLinuxChangePolicy"): ("Recursive", "MountOption"),
    # ---- core/v1: scheduling ----
    # NodeSelectorOperator (+enum); validation `ValidateNodeSelectorRequirement`.
    (_CORE + "NodeSelectorRequirement", "operator"): (
        "In",
        "NotIn",
        "Exists",
        "DoesNotExist",
        "Gt",
        "Lt",
    ),
    (_CORE + "Taint", "effect"): _TAINT_EFFECT,
    # Toleration.effect: "" (the empty default) means "match all taint effects".
    (_CORE + "Toleration", "effect"): ("", *_TAINT_EFFECT),
    # TolerationOperator (+enum); validation `ValidateTolerations` accepts "" as Equal.
    (_CORE + "Toleration", "operator"): ("", "Exists", "Equal"),
    # UnsatisfiableConstraintAction (+enum); validation `supportedScheduleActions`.
    (_CORE + "TopologySpreadConstraint", "whenUnsatisfiable"): ("DoNotSchedule", "ScheduleAnyway"),
    (_CORE + "TopologySpreadConstraint", "nodeAffinityPolicy"): _NODE_INCLUSION_POLICY,
    (_CORE + "TopologySpreadConstraint", "nodeTaintsPolicy"): _NODE_INCLUSION_POLICY,
    # ---- core/v1: volumes ----
    # HostPathType (+enum); validation `supportedHostPathTypes`. "" is HostPathUnset (no check).
    (_CORE + "HostPathVolumeSource", "type"): (
        "",
        "DirectoryOrCreate",
        "Directory",
        "FileOrCreate",
        "File",
        "Socket",
        "CharDevice",
        "BlockDevice",
    ),
    # AzureDataDiskCachingMode / AzureDataDiskKind (+enum); validation `validateAzureDisk`.
    (_CORE + "AzureDiskVolumeSource", "cachingMode"): ("None", "ReadOnly", "ReadWrite"),
    (_CORE + "AzureDiskVolumeSource", "kind"): ("Shared", "Dedicated", "Managed"),
    # ---- core/v1: persistent volumes and claims ----
    (_CORE + "PersistentVolumeSpec", "accessModes"): _ACCESS_MODE,
    (_CORE + "PersistentVolumeClaimSpec", "accessModes"): _ACCESS_MODE,
    (_CORE + "PersistentVolumeClaimStatus", "accessModes"): _ACCESS_MODE,
    # PersistentVolumeReclaimPolicy (+enum); validation `supportedReclaimPolicy`.
    (_CORE + "PersistentVolumeSpec", "persistentVolumeReclaimPolicy"): (
        "Recycle",
        "Delete",
        "Retain",
    ),
    (_CORE + "PersistentVolumeSpec", "volumeMode"): _VOLUME_MODE,
    (_CORE + "PersistentVolumeClaimSpec", "volumeMode"): _VOLUME_MODE,
    # PersistentVolumePhase (+enum).
    (_CORE + "PersistentVolumeStatus", "phase"): (
        "Pending",
        "Available",
        "Bound",
        "Released",
        "Failed",
    ),
    # PersistentVolumeClaimPhase (+enum).
    (_CORE + "PersistentVolumeClaimStatus", "phase"): ("Pending", "Bound", "Lost"),
    # PersistentVolumeClaimModifyVolumeStatus (+enum).
    (_CORE + "ModifyVolumeStatus", "status"): ("Pending", "InProgress", "Infeasible"),
    # ---- core/v1: services and endpoints ----
    # ServiceType (+enum); validation `supportedServiceType`.
    (_CORE + "ServiceSpec", "type"): ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"),
    # ServiceAffinity (+enum); validation `supportedSessionAffinityType`.
    (_CORE + "ServiceSpec", "sessionAffinity"): ("ClientIP", "None"),
    # ServiceExternalTrafficPolicy (+enum); validation `validExternalTrafficPolicies`.
    (_CORE + "ServiceSpec", "externalTrafficPolicy"): ("Cluster", "Local"),
    # ServiceInternalTrafficPolicy (+enum); validation `supportedServiceInternalTrafficPolicy`.
    (_CORE + "ServiceSpec", "internalTrafficPolicy"): ("Cluster", "Local"),
    # IPFamily (+enum); validation `supportedServiceIPFamily` (IPFamilyUnknown "" is rejected).
    (_CORE + "ServiceSpec", "ipFamilies"): ("IPv4", "IPv6"),
    # IPFamilyPolicy (+enum); validation `supportedServiceIPFamilyPolicy`.
    (_CORE + "ServiceSpec", "ipFamilyPolicy"): (
        "SingleStack",
        "PreferDualStack",
        "RequireDualStack",
    ),
    # ServiceTrafficDistribution* constants; validation `validateServiceTrafficDistribution`
    # (PreferSameZone/PreferSameNode added in v1.33 behind PreferSameTrafficDistribution).
    (_CORE + "ServiceSpec", "trafficDistribution"): (
        "PreferClose",
        "PreferSameZone",
        "PreferSameNode",
    ),
    (_CORE + "ServicePort", "protocol"): _PROTOCOL,
    (_CORE + "PortStatus", "protocol"): _PROTOCOL,
    # LoadBalancerIPMode (+enum); validation `supportedLoadBalancerIPMode`.
    (_CORE + "LoadBalancerIngress", "ipMode"): ("VIP", "Proxy"),
    (_CORE + "EndpointPort", "protocol"): _PROTOCOL,
    # ---- core/v1: nodes, namespaces, quotas ----
    # NodePhase (+enum; deprecated, never populated).
    (_CORE + "NodeStatus", "phase"): ("Pending", "Running", "Terminated"),
    # NamespacePhase (+enum).
    (_CORE + "NamespaceStatus", "phase"): ("Active", "Terminating"),
    (_CORE + "ResourceQuotaSpec", "scopes"): _RESOURCE_QUOTA_SCOPE,
    (_CORE + "ScopedResourceSelectorRequirement", "scopeName"): _RESOURCE_QUOTA_SCOPE,
    # ScopeSelectorOperator (+enum); validation `validateScopedResourceSelectorRequirement`.
    (_CORE + "ScopedResourceSelectorRequirement", "operator"): (
        "In",
        "NotIn",
        "Exists",
        "DoesNotExist",
    ),
    # ---- apps/v1 (k8s.io/api/apps/v1/types.go, pkg/apis/apps/validation) ----
    # DeploymentStrategyType (+enum).
    ("io.k8s.api.apps.v1.DeploymentStrategy", "type"): ("Recreate", "RollingUpdate"),
    ("io.k8s.api.apps.v1.DaemonSetUpdateStrategy", "type"): _ROLLING_OR_ON_DELETE,
    ("io.k8s.api.apps.v1.StatefulSetUpdateStrategy", "type"): _ROLLING_OR_ON_DELETE,
    # PodManagementPolicyType (+enum).
    ("io.k8s.api.apps.v1.StatefulSetSpec", "podManagementPolicy"): ("OrderedReady", "Parallel"),
    (
        "io.k8s.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy",
        "whenDeleted",
    ): _PVC_RETENTION_POLICY,
    (
        "io.k8s.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy",
        "whenScaled",
    ): _PVC_RETENTION_POLICY,
    # ---- batch/v1 (k8s.io/api/batch/v1/types.go, pkg/apis/batch/validation) ----
    # CompletionMode (+enum).
    ("io.k8s.api.batch.v1.JobSpec", "completionMode"): ("NonIndexed", "Indexed"),
    # PodReplacementPolicy (+enum).
    ("io.k8s.api.batch.v1.JobSpec", "podReplacementPolicy"): ("TerminatingOrFailed", "Failed"),
    # PodFailurePolicyAction (+enum).
    ("io.k8s.api.batch.v1.PodFailurePolicyRule", "action"): (
        "FailJob",
        "FailIndex",
        "Ignore",
        "Count",
    ),
    # PodFailurePolicyOnExitCodesOperator (+enum).
    ("io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement", "operator"): ("In", "NotIn"),
    # ConcurrencyPolicy (+enum).
    ("io.k8s.api.batch.v1.CronJobSpec", "concurrencyPolicy"): ("Allow", "Forbid", "Replace"),
    # ---- autoscaling/v2 (k8s.io/api/autoscaling/v2/types.go, pkg/apis/autoscaling/validation) ----
    ("io.k8s.api.autoscaling.v2.MetricSpec", "type"): _METRIC_SOURCE_TYPE,
    ("io.k8s.api.autoscaling.v2.MetricStatus", "type"): _METRIC_SOURCE_TYPE,
    # MetricTargetType (+enum); validation `validateMetricTarget`.
    ("io.k8s.api.autoscaling.v2.MetricTarget", "type"): ("Utilization", "Value", "AverageValue"),
    # ScalingPolicySelect (+enum).
    ("io.k8s.api.autoscaling.v2.HPAScalingRules", "selectPolicy"): ("Max", "Min", "Disabled"),
    # HPAScalingPolicyType (+enum).
    ("io.k8s.api.autoscaling.v2.HPAScalingPolicy", "type"): ("Pods", "Percent"),
    # ---- discovery.k8s.io/v1 (k8s.io/api/discovery/v1/types.go) ----
    # AddressType (+enum); validation `supportedAddressTypes` (FQDN deprecated but valid).
    ("io.k8s.api.discovery.v1.EndpointSlice", "addressType"): ("IPv4", "IPv6", "FQDN"),
    ("io.k8s.api.discovery.v1.EndpointPort", "protocol"): _PROTOCOL,
    # ---- policy/v1 (k8s.io/api/policy/v1/types.go) ----
    # UnhealthyPodEvictionPolicyType (+enum); validation `supportedUnhealthyPodEvictionPolicies`.
    ("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "unhealthyPodEvictionPolicy"): (
        "IfHealthyBudget",
        "AlwaysAllow",
    ),
    # ---- rbac.authorization.k8s.io/v1 (pkg/apis/rbac/validation) ----
    # ValidateRoleBinding: roleRef.apiGroup must be the RBAC group; roleRef.kind Role or
    # ClusterRole (a ClusterRoleBinding further restricts it to ClusterRole).
    ("io.k8s.api.rbac.v1.RoleRef", "apiGroup"): ("rbac.authorization.k8s.io",),
    ("io.k8s.api.rbac.v1.RoleRef", "kind"): ("Role", "ClusterRole"),
    # ValidateRoleBindingSubject: kind is ServiceAccount, User or Group; apiGroup is "" for a
    # ServiceAccount and the RBAC group for a User or Group.
    ("io.k8s.api.rbac.v1.Subject", "kind"): ("ServiceAccount", "User", "Group"),
    ("io.k8s.api.rbac.v1.Subject", "apiGroup"): ("", "rbac.authorization.k8s.io"),
    # ---- scheduling.k8s.io/v1 ----
    ("io.k8s.api.scheduling.v1.PriorityClass", "preemptionPolicy"): _PREEMPTION_POLICY,
    # ---- meta/v1 (k8s.io/apimachinery/pkg/apis/meta/v1) ----
    (_META + "LabelSelectorRequirement", "operator"): _LABEL_SELECTOR_OPERATOR,
    # DeletionPropagation; validation `ValidateDeleteOptions`.
    (_META + "DeleteOptions", "propagationPolicy"): ("Orphan", "Background", "Foreground"),
    # DryRunAll; validation `ValidateDryRun`.
    (_META + "DeleteOptions", "dryRun"): ("All",),
    # ManagedFieldsOperationType; validation `ValidateManagedFields` (fieldsType too).
    (_META + "ManagedFieldsEntry", "operation"): ("Apply", "Update"),
    (_META + "ManagedFieldsEntry", "fieldsType"): ("FieldsV1",),
    # StatusSuccess / StatusFailure (types.go: "One of: Success or Failure").
    (_META + "Status", "status"): ("Success", "Failure"),
    # k8s.io/apimachinery/pkg/watch EventType.
    (_META + "WatchEvent", "type"): ("ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"),
}


def _check() -> None:
    """Assert every key names a string (or string-array) property of the schema."""
    root = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    schema = json.loads((root / "v1.33.0-local" / "_definitions.json").read_text())
    defs: dict[str, Any] = schema["$defs"]

    def types_of(prop: dict[str, Any]) -> set[str]:
        t = prop.get("type", [])
        return {t} if isinstance(t, str) else set(t)

    problems: list[str] = []
    for (defn, name), values in ENUMS.items():
        prop = defs.get(defn, {}).get("properties", {}).get(name)
        if prop is None:
            problems.append(f"{defn}.{name}: no such property")
            continue
        kinds = types_of(prop) - {"null"}
        if kinds == {"array"}:
            kinds = types_of(prop.get("items", {})) - {"null"}
        if kinds != {"string"}:
            problems.append(f"{defn}.{name}: not a string or string array ({sorted(kinds)})")
        if not values or len(set(values)) != len(values):
            problems.append(f"{defn}.{name}: empty or duplicate values")
    assert not problems, "\n".join(problems)
    print(f"enums: {len(ENUMS)} entries OK")


if __name__ == "__main__":
    _check()

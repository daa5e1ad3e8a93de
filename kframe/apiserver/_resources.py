"""The REST resources kframe serves, with upstream's discovery facts and ``kubectl get`` columns.

``RESOURCES`` is what kube-apiserver's discovery documents say about each resource kframe serves
(``kubectl api-resources -o wide``): plural and singular names, kind, scope, verbs, short names,
categories and subresources, in upstream's order (subresources sorted, as discovery lists them).
``field_selectors`` are the fields beyond ``metadata.name``/``metadata.namespace`` that upstream's
field-label conversion functions accept for the kind (``pkg/apis/*/v1/conversion.go``) and its
registry exposes (``*ToSelectableFields``).

``PRINT_COLUMNS`` are the column definitions of the server-side tables kube-apiserver returns for
``kubectl get`` (``pkg/printers/internalversion/printers.go``); resources without a printer there
get the default convertor's ``Name``/``Created At`` columns. Descriptions are upstream's
``SwaggerDoc`` texts, which are the API reference's field descriptions.
"""

from __future__ import annotations

import attrs

from kframe.api import models

__all__ = ["PRINT_COLUMNS", "RESOURCES", "Column", "Resource", "by_kind", "by_plural"]


@attrs.frozen(kw_only=True)
class Resource:
    """One top-level REST resource, as discovery (``metav1.APIResource``) describes it."""

    group: str
    """The API group; ``""`` for the core group."""
    version: str
    plural: str
    singular: str
    kind: str
    list_kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    """Subresource names (``status``, ``scale``, ``log``, ...), sorted as discovery lists them."""
    field_selectors: tuple[str, ...] = ()
    """Selectable fields beyond ``metadata.name`` and (namespaced) ``metadata.namespace``."""
    model: type
    """The ``kframe.api.models`` class of the kind."""

    @property
    def api_version(self) -> str:
        """``apps/v1``, or ``v1`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version


# The verbs of a resource with full CRUD storage, in discovery's (sorted) order.
_ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

RESOURCES: tuple[Resource, ...] = (
    # core/v1 (pkg/registry/core/rest/storage_core.go)
    Resource(
        group="",
        version="v1",
        plural="bindings",
        singular="binding",
        kind="Binding",
        list_kind="BindingList",
        namespaced=True,
        verbs=("create",),
        model=models.Binding,
    ),
    Resource(
        group="",
        version="v1",
        plural="configmaps",
        singular="configmap",
        kind="ConfigMap",
        list_kind="ConfigMapList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("cm",),
        model=models.ConfigMap,
    ),
    Resource(
        group="",
        version="v1",
        plural="endpoints",
        singular="endpoints",
        kind="Endpoints",
        list_kind="EndpointsList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("ep",),
        model=models.Endpoints,
    ),
    Resource(
        group="",
        version="v1",
        plural="events",
        singular="event",
        kind="Event",
        list_kind="EventList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("ev",),
        field_selectors=(
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ),
        model=models.Event,
    ),
    Resource(
        group="",
        version="v1",
        plural="limitranges",
        singular="limitrange",
        kind="LimitRange",
        list_kind="LimitRangeList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("limits",),
        model=models.LimitRange,
    ),
    Resource(
        group="",
        version="v1",
        plural="namespaces",
        singular="namespace",
        kind="Namespace",
        list_kind="NamespaceList",
        namespaced=False,
        # No deletecollection: namespace storage does not implement it.
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        short_names=("ns",),
        subresources=("finalize", "status"),
        field_selectors=("status.phase",),
        model=models.Namespace,
    ),
    Resource(
        group="",
        version="v1",
        plural="nodes",
        singular="node",
        kind="Node",
        list_kind="NodeList",
        namespaced=False,
        verbs=_ALL_VERBS,
        short_names=("no",),
        subresources=("proxy", "status"),
        field_selectors=("spec.unschedulable",),
        model=models.Node,
    ),
    Resource(
        group="",
        version="v1",
        plural="persistentvolumeclaims",
        singular="persistentvolumeclaim",
        kind="PersistentVolumeClaim",
        list_kind="PersistentVolumeClaimList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("pvc",),
        subresources=("status",),
        model=models.PersistentVolumeClaim,
    ),
    Resource(
        group="",
        version="v1",
        plural="persistentvolumes",
        singular="persistentvolume",
        kind="PersistentVolume",
        list_kind="PersistentVolumeList",
        namespaced=False,
        verbs=_ALL_VERBS,
        short_names=("pv",),
        subresources=("status",),
        model=models.PersistentVolume,
    ),
    Resource(
        group="",
        version="v1",
        plural="pods",
        singular="pod",
        kind="Pod",
        list_kind="PodList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("po",),
        categories=("all",),
        subresources=(
            "attach",
            "binding",
            "ephemeralcontainers",
            "eviction",
            "exec",
            "log",
            "portforward",
            "proxy",
            "resize",
            "status",
        ),
        field_selectors=(
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ),
        model=models.Pod,
    ),
    Resource(
        group="",
        version="v1",
        plural="resourcequotas",
        singular="resourcequota",
        kind="ResourceQuota",
        list_kind="ResourceQuotaList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("quota",),
        subresources=("status",),
        model=models.ResourceQuota,
    ),
    Resource(
        group="",
        version="v1",
        plural="secrets",
        singular="secret",
        kind="Secret",
        list_kind="SecretList",
        namespaced=True,
        verbs=_ALL_VERBS,
        field_selectors=("type",),
        model=models.Secret,
    ),
    Resource(
        group="",
        version="v1",
        plural="serviceaccounts",
        singular="serviceaccount",
        kind="ServiceAccount",
        list_kind="ServiceAccountList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("sa",),
        subresources=("token",),
        model=models.ServiceAccount,
    ),
    Resource(
        group="",
        version="v1",
        plural="services",
        singular="service",
        kind="Service",
        list_kind="ServiceList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("svc",),
        categories=("all",),
        subresources=("proxy", "status"),
        field_selectors=("spec.clusterIP", "spec.type"),
        model=models.Service,
    ),
    # apps/v1 (pkg/registry/apps/rest/storage_apps.go)
    Resource(
        group="apps",
        version="v1",
        plural="controllerrevisions",
        singular="controllerrevision",
        kind="ControllerRevision",
        list_kind="ControllerRevisionList",
        namespaced=True,
        verbs=_ALL_VERBS,
        model=models.ControllerRevision,
    ),
    Resource(
        group="apps",
        version="v1",
        plural="daemonsets",
        singular="daemonset",
        kind="DaemonSet",
        list_kind="DaemonSetList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("ds",),
        categories=("all",),
        subresources=("status",),
        model=models.DaemonSet,
    ),
    Resource(
        group="apps",
        version="v1",
        plural="deployments",
        singular="deployment",
        kind="Deployment",
        list_kind="DeploymentList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("deploy",),
        categories=("all",),
        subresources=("scale", "status"),
        model=models.Deployment,
    ),
    Resource(
        group="apps",
        version="v1",
        plural="replicasets",
        singular="replicaset",
        kind="ReplicaSet",
        list_kind="ReplicaSetList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("rs",),
        categories=("all",),
        subresources=("scale", "status"),
        field_selectors=("status.replicas",),
        model=models.ReplicaSet,
    ),
    Resource(
        group="apps",
        version="v1",
        plural="statefulsets",
        singular="statefulset",
        kind="StatefulSet",
        list_kind="StatefulSetList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("sts",),
        categories=("all",),
        subresources=("scale", "status"),
        model=models.StatefulSet,
    ),
    # autoscaling/v2
    Resource(
        group="autoscaling",
        version="v2",
        plural="horizontalpodautoscalers",
        singular="horizontalpodautoscaler",
        kind="HorizontalPodAutoscaler",
        list_kind="HorizontalPodAutoscalerList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("hpa",),
        categories=("all",),
        subresources=("status",),
        model=models.HorizontalPodAutoscaler,
    ),
    # batch/v1
    Resource(
        group="batch",
        version="v1",
        plural="cronjobs",
        singular="cronjob",
        kind="CronJob",
        list_kind="CronJobList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("cj",),
        categories=("all",),
        subresources=("status",),
        model=models.CronJob,
    ),
    Resource(
        group="batch",
        version="v1",
        plural="jobs",
        singular="job",
        kind="Job",
        list_kind="JobList",
        namespaced=True,
        verbs=_ALL_VERBS,
        categories=("all",),
        subresources=("status",),
        field_selectors=("status.successful",),
        model=models.Job,
    ),
    # coordination.k8s.io/v1
    Resource(
        group="coordination.k8s.io",
        version="v1",
        plural="leases",
        singular="lease",
        kind="Lease",
        list_kind="LeaseList",
        namespaced=True,
        verbs=_ALL_VERBS,
        model=models.Lease,
    ),
    # discovery.k8s.io/v1
    Resource(
        group="discovery.k8s.io",
        version="v1",
        plural="endpointslices",
        singular="endpointslice",
        kind="EndpointSlice",
        list_kind="EndpointSliceList",
        namespaced=True,
        verbs=_ALL_VERBS,
        model=models.EndpointSlice,
    ),
    # node.k8s.io/v1
    Resource(
        group="node.k8s.io",
        version="v1",
        plural="runtimeclasses",
        singular="runtimeclass",
        kind="RuntimeClass",
        list_kind="RuntimeClassList",
        namespaced=False,
        verbs=_ALL_VERBS,
        model=models.RuntimeClass,
    ),
    # policy/v1
    Resource(
        group="policy",
        version="v1",
        plural="poddisruptionbudgets",
        singular="poddisruptionbudget",
        kind="PodDisruptionBudget",
        list_kind="PodDisruptionBudgetList",
        namespaced=True,
        verbs=_ALL_VERBS,
        short_names=("pdb",),
        subresources=("status",),
        model=models.PodDisruptionBudget,
    ),
    # rbac.authorization.k8s.io/v1
    Resource(
        group="rbac.authorization.k8s.io",
        version="v1",
        plural="clusterrolebindings",
        singular="clusterrolebinding",
        kind="ClusterRoleBinding",
        list_kind="ClusterRoleBindingList",
        namespaced=False,
        verbs=_ALL_VERBS,
        model=models.ClusterRoleBinding,
    ),
    Resource(
        group="rbac.authorization.k8s.io",
        version="v1",
        plural="clusterroles",
        singular="clusterrole",
        kind="ClusterRole",
        list_kind="ClusterRoleList",
        namespaced=False,
        verbs=_ALL_VERBS,
        model=models.ClusterRole,
    ),
    Resource(
        group="rbac.authorization.k8s.io",
        version="v1",
        plural="rolebindings",
        singular="rolebinding",
        kind="RoleBinding",
        list_kind="RoleBindingList",
        namespaced=True,
        verbs=_ALL_VERBS,
        model=models.RoleBinding,
    ),
    Resource(
        group="rbac.authorization.k8s.io",
        version="v1",
        plural="roles",
        singular="role",
        kind="Role",
        list_kind="RoleList",
        namespaced=True,
        verbs=_ALL_VERBS,
        model=models.Role,
    ),
    # scheduling.k8s.io/v1
    Resource(
        group="scheduling.k8s.io",
        version="v1",
        plural="priorityclasses",
        singular="priorityclass",
        kind="PriorityClass",
        list_kind="PriorityClassList",
        namespaced=False,
        verbs=_ALL_VERBS,
        short_names=("pc",),
        model=models.PriorityClass,
    ),
)

_BY_PLURAL: dict[tuple[str, str, str], Resource] = {
    (r.group, r.version, r.plural): r for r in RESOURCES
}
_BY_KIND: dict[tuple[str, str], Resource] = {(r.api_version, r.kind): r for r in RESOURCES}


def by_plural(group: str, version: str, plural: str) -> Resource | None:
    """The resource at ``/apis/<group>/<version>/<plural>`` (``/api/v1/<plural>`` for core)."""
    return _BY_PLURAL.get((group, version, plural))


def by_kind(api_version: str, kind: str) -> Resource | None:
    """The resource that serves objects of ``kind`` in ``api_version`` (``"apps/v1"``, ``"v1"``)."""
    return _BY_KIND.get((api_version, kind))


@attrs.frozen(kw_only=True)
class Column:
    """One column of a server-side table (``metav1.TableColumnDefinition``)."""

    name: str
    type: str
    """The OpenAPI type of the cells: ``string``, ``integer``, ``boolean``, ``date``."""
    format: str = ""
    """``name`` marks the column holding the object's name."""
    priority: int = 0
    """0: always shown; 1: shown by ``kubectl get -o wide`` only."""
    description: str


def _col(name: str, type_: str, description: str, *, fmt: str = "", priority: int = 0) -> Column:
    return Column(name=name, type=type_, format=fmt, priority=priority, description=description)


# Upstream's SwaggerDoc() texts that the printers use as column descriptions, keyed by Go type
# and JSON field. Where printers.go cites a beta type that is no longer served
# (extensions/v1beta1, batch/v1beta1, autoscaling/v2beta1, rbac/v1beta1, ...), the text is the
# served version's (apps/v1, batch/v1, autoscaling/v2, rbac/v1, ...).
_SWAGGER: dict[str, str] = {
    "ObjectMeta.name": (
        "Name must be unique within a namespace. Is required when creating resources, although "
        "some resources may allow a client to request the generation of an appropriate name "
        "automatically. Name is primarily intended for creation idempotence and configuration "
        "definition. Cannot be updated. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
    ),
    "ObjectMeta.creationTimestamp": (
        "CreationTimestamp is a timestamp representing the server time when this object was "
        "created. It is not guaranteed to be set in happens-before order across separate "
        "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
        "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
        "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
    ),
    "PodStatus.podIP": (
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not "
        "yet allocated."
    ),
    "PodStatus.nominatedNodeName": (
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it "
        "cannot be scheduled right away as preemption victims receive their graceful termination "
        "periods. This field does not guarantee that the pod will be scheduled on this node. "
        "Scheduler may decide to place the pod elsewhere if other nodes become available sooner. "
        "Scheduler may also decide to give the resources on this node to a higher priority pod "
        "that is created after preemption. As a result, this field may be different than "
        "PodSpec.nodeName when the pod is scheduled."
    ),
    "PodSpec.nodeName": (
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a "
        "candidate for scheduling by the scheduler defined in schedulerName. Once this field is "
        "set, the kubelet for this node becomes responsible for the lifecycle of this pod. This "
        "field should not be used to express a desire for the pod to be scheduled on a specific "
        "node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename"
    ),
    "PodSpec.readinessGates": (
        "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready "
        "when all its containers are ready AND all conditions specified in the readiness gates "
        'have status equal to "True" More info: '
        "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates"
    ),
    "PodSpec.nodeSelector": (
        "NodeSelector is a selector which must be true for the pod to fit on a node. Selector "
        "which must match a node's labels for the pod to be scheduled on that node. More info: "
        "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"
    ),
    "ReplicaSetSpec.replicas": (
        "Replicas is the number of desired pods. This is a pointer to distinguish between "
        "explicit zero and unspecified. Defaults to 1. More info: "
        "https://kubernetes.io/docs/concepts/workloads/controllers/replicaset"
    ),
    "ReplicaSetSpec.selector": (
        "Selector is a label query over pods that should match the replica count. Label keys and "
        "values that must match in order to be controlled by this replica set. It must match the "
        "pod template's labels. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
    ),
    "ReplicaSetStatus.replicas": (
        "Replicas is the most recently observed number of non-terminating pods. More info: "
        "https://kubernetes.io/docs/concepts/workloads/controllers/replicaset"
    ),
    "ReplicaSetStatus.readyReplicas": (
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition."
    ),
    "DaemonSetStatus.desiredNumberScheduled": (
        "The total number of nodes that should be running the daemon pod (including nodes "
        "correctly running the daemon pod). More info: "
        "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
    ),
    "DaemonSetStatus.currentNumberScheduled": (
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the "
        "daemon pod. More info: "
        "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
    ),
    "DaemonSetStatus.numberReady": (
        "numberReady is the number of nodes that should be running the daemon pod and have one "
        "or more of the daemon pod running with a Ready Condition."
    ),
    "DaemonSetStatus.updatedNumberScheduled": (
        "The total number of nodes that are running updated daemon pod"
    ),
    "DaemonSetStatus.numberAvailable": (
        "The number of nodes that should be running the daemon pod and have one or more of the "
        "daemon pod running and available (ready for at least spec.minReadySeconds)"
    ),
    "DaemonSetSpec.selector": (
        "A label query over pods that are managed by the daemon set. Must match in order to be "
        "controlled. It must match the pod template's labels. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
    ),
    "DeploymentStatus.updatedReplicas": (
        "Total number of non-terminating pods targeted by this deployment that have the desired "
        "template spec."
    ),
    "DeploymentStatus.availableReplicas": (
        "Total number of available non-terminating pods (ready for at least minReadySeconds) "
        "targeted by this deployment."
    ),
    "DeploymentSpec.selector": (
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be "
        "the ones affected by this deployment. It must match the pod template's labels."
    ),
    "ControllerRevision.revision": (
        "Revision indicates the revision of the state represented by Data."
    ),
    "JobStatus.succeeded": (
        "The number of pods which reached phase Succeeded. The value increases monotonically for "
        "a given spec. However, it may decrease in reaction to scale down of elastic indexed "
        "jobs."
    ),
    "JobSpec.selector": (
        "A label query over pods that should match the pod count. Normally, the system sets this "
        "field for you. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
    ),
    "CronJobSpec.schedule": (
        "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."
    ),
    "CronJobSpec.timeZone": (
        "The time zone name for the given schedule, see "
        "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this "
        "will default to the time zone of the kube-controller-manager process. The set of valid "
        "time zone names and the time zone offset is loaded from the system-wide time zone "
        "database by the API server during CronJob validation and the controller manager during "
        "execution. If no system-wide time zone database can be found a bundled version of the "
        "database is used instead. If the time zone name becomes invalid during the lifetime of "
        "a CronJob or due to a change in host configuration, the controller will stop creating "
        "new new Jobs and will create a system event with the reason UnknownTimeZone. More "
        "information can be found in "
        "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones"
    ),
    "CronJobSpec.suspend": (
        "This flag tells the controller to suspend subsequent executions, it does not apply to "
        "already started executions.  Defaults to false."
    ),
    "CronJobStatus.active": ("A list of pointers to currently running jobs."),
    "CronJobStatus.lastScheduleTime": (
        "Information when was the last time the job was successfully scheduled."
    ),
    "ServiceSpec.type": (
        "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
        'ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a '
        "cluster-internal IP address for load-balancing to endpoints. Endpoints are determined "
        "by the selector or if that is not specified, by manual construction of an Endpoints "
        'object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated '
        "and the endpoints are published as a set of endpoints rather than a virtual IP. "
        '"NodePort" builds on ClusterIP and allocates a port on every node which routes to the '
        'same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an '
        "external load-balancer (if supported in the current cloud) which routes to the same "
        'endpoints as the clusterIP. "ExternalName" aliases this service to the specified '
        "externalName. Several other fields do not apply to ExternalName services. More info: "
        "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"
    ),
    "ServiceSpec.clusterIP": (
        "clusterIP is the IP address of the service and is usually assigned randomly. If an "
        "address is specified manually, is in-range (as per system configuration), and is not in "
        "use, it will be allocated to the service; otherwise creation of the service will fail. "
        "This field may not be changed through updates unless the type field is also being "
        "changed to ExternalName (which requires this field to be blank) or the type field is "
        "being changed from ExternalName (in which case this field may optionally be specified, "
        'as describe above).  Valid values are "None", empty string (""), or a valid IP '
        'address. Setting this to "None" makes a "headless service" (no virtual IP), which '
        "is useful when direct endpoint connections are preferred and proxying is not required.  "
        "Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified "
        "when creating a Service of type ExternalName, creation will fail. This field will be "
        "wiped when updating a Service to type ExternalName. More info: "
        "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
    ),
    "ServiceSpec.externalIPs": (
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
        "traffic for this service.  These IPs are not managed by Kubernetes.  The user is "
        "responsible for ensuring that traffic arrives at a node with this IP.  A common example "
        "is external load-balancers that are not part of the Kubernetes system."
    ),
    "ServiceSpec.ports": (
        "The list of ports that are exposed by this service. More info: "
        "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
    ),
    "ServiceSpec.selector": (
        "Route service traffic to pods with label keys and values matching this selector. If "
        "empty or not present, the service is assumed to have an external process managing its "
        "endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, "
        "and LoadBalancer. Ignored if type is ExternalName. More info: "
        "https://kubernetes.io/docs/concepts/services-networking/service/"
    ),
    "Endpoints.subsets": (
        "The set of all endpoints is the union of all subsets. Addresses are placed into subsets "
        "according to the IPs they share. A single address with multiple ports, some of which "
        "are ready and some of which are not (because they come from different containers) will "
        "result in the address being displayed in different subsets for the different ports. No "
        "address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of "
        "addresses and ports that comprise a service."
    ),
    "NodeSystemInfo.kubeletVersion": ("Kubelet Version reported by the node."),
    "NodeSystemInfo.osImage": (
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."
    ),
    "NodeSystemInfo.kernelVersion": (
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."
    ),
    "NodeSystemInfo.containerRuntimeVersion": (
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
        "containerd://1.4.2)."
    ),
    "NodeStatus.addresses": (
        "List of addresses reachable to the node. Queried from cloud provider, if available. "
        "More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This "
        "field is declared as mergeable, but the merge key is not sufficiently unique, which can "
        "cause data corruption when it is merged. Callers should instead use a full-replacement "
        "patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that "
        "addresses can change during the lifetime of a Node. However, there are some exceptions "
        "where this may not be possible, such as Pods that inherit a Node's address in its own "
        "status or consumers of the downward API (status.hostIP)."
    ),
    "Event.lastTimestamp": (
        "The time at which the most recent occurrence of this event was recorded."
    ),
    "Event.type": ("Type of this event (Normal, Warning), new types could be added in the future"),
    "Event.reason": (
        "This should be a short, machine understandable string that gives the reason for the "
        "transition into the object's current status."
    ),
    "Event.involvedObject": ("The object that this event is about."),
    "Event.source": (
        "The component reporting this event. Should be a short machine understandable string."
    ),
    "Event.message": ("A human-readable description of the status of this operation."),
    "Event.firstTimestamp": (
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"
    ),
    "Event.count": ("The number of times this event has occurred."),
    "ObjectReference.fieldPath": (
        "If referring to a piece of an object instead of an entire object, this string should "
        "contain a valid JSON/Go field access statement, such as "
        "desiredState.manifest.containers[2]. For example, if the object reference is to a "
        'container within a pod, this would take on a value like: "spec.containers{name}" '
        '(where "name" refers to the name of the container that triggered the event) or if no '
        'container name is specified "spec.containers[2]" (container with index 2 in this '
        "pod). This syntax is chosen only to have some well-defined way of referencing a part of "
        "an object."
    ),
    "Secret.type": (
        "Used to facilitate programmatic handling of secret data. More info: "
        "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"
    ),
    "Secret.data": (
        "Data contains the secret data. Each key must consist of alphanumeric characters, '-', "
        "'_' or '.'. The serialized form of the secret data is a base64 encoded string, "
        "representing the arbitrary (possibly non-string) data value here. Described in "
        "https://tools.ietf.org/html/rfc4648#section-4"
    ),
    "ServiceAccount.secrets": (
        "Secrets is a list of the secrets in the same namespace that pods running using this "
        "ServiceAccount are allowed to use. Pods are only limited to this list if this service "
        'account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". '
        'The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. '
        "Prefer separate namespaces to isolate access to mounted secrets. This field should not "
        "be used to find auto-generated service account token secrets for use outside of pods. "
        "Instead, tokens can be requested directly using the TokenRequest API, or service "
        "account token secrets can be manually created. More info: "
        "https://kubernetes.io/docs/concepts/configuration/secret"
    ),
    "PersistentVolumeSpec.capacity": (
        "capacity is the description of the persistent volume's resources and capacity. More "
        "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"
    ),
    "PersistentVolumeSpec.accessModes": (
        "accessModes contains all ways the volume can be mounted. More info: "
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"
    ),
    "PersistentVolumeSpec.persistentVolumeReclaimPolicy": (
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released "
        "from its claim. Valid options are Retain (default for manually created "
        "PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and "
        "Recycle (deprecated). Recycle must be supported by the volume plugin underlying this "
        "PersistentVolume. More info: "
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming"
    ),
    "PersistentVolumeSpec.claimRef": (
        "claimRef is part of a bi-directional binding between PersistentVolume and "
        "PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the "
        "authoritative bind between PV and PVC. More info: "
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding"
    ),
    "PersistentVolumeSpec.volumeMode": (
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to "
        "remain in raw block state. Value of Filesystem is implied when not included in spec."
    ),
    "PersistentVolumeStatus.phase": (
        "phase indicates if a volume is available, bound to a claim, or released by a claim. "
        "More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"
    ),
    "PersistentVolumeStatus.reason": (
        "reason is a brief CamelCase string that describes any failure and is meant for machine "
        "parsing and tidy display in the CLI."
    ),
    "PersistentVolumeClaimStatus.phase": (
        "phase represents the current phase of PersistentVolumeClaim."
    ),
    "PersistentVolumeClaimStatus.capacity": (
        "capacity represents the actual resources of the underlying volume."
    ),
    "PersistentVolumeClaimStatus.accessModes": (
        "accessModes contains the actual access modes the volume backing the PVC has. More info: "
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"
    ),
    "PersistentVolumeClaimSpec.volumeName": (
        "volumeName is the binding reference to the PersistentVolume backing this claim."
    ),
    "PersistentVolumeClaimSpec.volumeMode": (
        "volumeMode defines what type of volume is required by the claim. Value of Filesystem is "
        "implied when not included in claim spec."
    ),
    "HorizontalPodAutoscalerSpec.scaleTargetRef": (
        "scaleTargetRef points to the target resource to scale, and is used to the pods for "
        "which metrics should be collected, as well as to actually change the replica count."
    ),
    "HorizontalPodAutoscalerSpec.metrics": (
        "metrics contains the specifications for which to use to calculate the desired replica "
        "count (the maximum replica count across all metrics will be used).  The desired replica "
        "count is calculated multiplying the ratio between the target value and the current "
        "value by the current number of pods.  Ergo, metrics used must decrease as the pod count "
        "is increased, and vice-versa.  See the individual metric source types for more "
        "information about how each type of metric must respond. If not set, the default metric "
        "will be set to 80% average CPU utilization."
    ),
    "HorizontalPodAutoscalerSpec.minReplicas": (
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can "
        "scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature "
        "gate HPAScaleToZero is enabled and at least one Object or External metric is "
        "configured.  Scaling is active as long as at least one metric value is available."
    ),
    "HorizontalPodAutoscalerSpec.maxReplicas": (
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can "
        "scale up. It cannot be less that minReplicas."
    ),
    "HorizontalPodAutoscalerStatus.currentReplicas": (
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as "
        "last seen by the autoscaler."
    ),
    "ConfigMap.data": (
        "Data contains the configuration data. Each key must consist of alphanumeric characters, "
        "'-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. "
        "The keys stored in Data must not overlap with the keys in the BinaryData field, this is "
        "enforced during validation process."
    ),
    "RoleBinding.roleRef": (
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "
        "namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This "
        "field is immutable."
    ),
    "ClusterRoleBinding.roleRef": (
        "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot "
        "be resolved, the Authorizer must return an error. This field is immutable."
    ),
    "LeaseSpec.holderIdentity": (
        "holderIdentity contains the identity of the holder of a current lease. If Coordinated "
        "Leader Election is used, the holder identity must be equal to the elected "
        "LeaseCandidate.metadata.name field."
    ),
    "PriorityClass.value": (
        "value represents the integer value of this priority class. This is the actual priority "
        "that pods receive when they have the name of this class in their pod spec."
    ),
    "PriorityClass.globalDefault": (
        "globalDefault specifies whether this PriorityClass should be considered as the default "
        "priority for pods that do not have any priority class. Only one PriorityClass can be "
        "marked as `globalDefault`. However, if more than one PriorityClasses exists with their "
        "`globalDefault` field set to true, the smallest value of such global default "
        "PriorityClasses will be used as the default priority."
    ),
    "PriorityClass.preemptionPolicy": (
        "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, "
        "PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."
    ),
    "EndpointSlice.addressType": (
        "addressType specifies the type of address carried by this EndpointSlice. All addresses "
        "in this slice must be the same type. This field is immutable after creation. The "
        "following address types are currently supported: * IPv4: Represents an IPv4 Address. * "
        "IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name. "
        "(Deprecated) The EndpointSlice controller only generates, and kube-proxy only "
        'processes, slices of addressType "IPv4" and "IPv6". No semantics are defined for '
        'the "FQDN" type.'
    ),
    "EndpointSlice.ports": (
        "ports specifies the list of network ports exposed by each endpoint in this slice. Each "
        "port must have a unique name. Each slice may include a maximum of 100 ports. Services "
        "always have at least 1 port, so EndpointSlices generated by the EndpointSlice "
        "controller will likewise always have at least 1 port. EndpointSlices used for other "
        "purposes may have an empty ports list."
    ),
    "EndpointSlice.endpoints": (
        "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum "
        "of 1000 endpoints."
    ),
}

_NAME = _col("Name", "string", _SWAGGER["ObjectMeta.name"], fmt="name")
_AGE = _col("Age", "string", _SWAGGER["ObjectMeta.creationTimestamp"])
_CONTAINERS = _col("Containers", "string", "Names of each container in the template.", priority=1)
_IMAGES = _col(
    "Images", "string", "Images referenced by each container in the template.", priority=1
)
_READY = "Number of the pod with ready state"

# What upstream's default table convertor shows for a resource without a printer
# (k8s.io/apiserver/pkg/registry/rest/table.go).
_DEFAULT_COLUMNS = (
    _NAME,
    _col("Created At", "date", _SWAGGER["ObjectMeta.creationTimestamp"]),
)


def _binding_columns(kind: str) -> tuple[Column, ...]:
    return (
        _NAME,
        _col("Role", "string", _SWAGGER[f"{kind}.roleRef"]),
        _AGE,
        _col("Users", "string", f"Users in the {kind[0].lower()}{kind[1:]}", priority=1),
        _col("Groups", "string", f"Groups in the {kind[0].lower()}{kind[1:]}", priority=1),
        _col(
            "ServiceAccounts",
            "string",
            f"ServiceAccounts in the {kind[0].lower()}{kind[1:]}",
            priority=1,
        ),
    )


PRINT_COLUMNS: dict[str, tuple[Column, ...]] = {
    "bindings": _DEFAULT_COLUMNS,
    "configmaps": (_NAME, _col("Data", "string", _SWAGGER["ConfigMap.data"]), _AGE),
    "endpoints": (_NAME, _col("Endpoints", "string", _SWAGGER["Endpoints.subsets"]), _AGE),
    "events": (
        _col("Last Seen", "string", _SWAGGER["Event.lastTimestamp"]),
        _col("Type", "string", _SWAGGER["Event.type"]),
        _col("Reason", "string", _SWAGGER["Event.reason"]),
        _col("Object", "string", _SWAGGER["Event.involvedObject"]),
        _col("Subobject", "string", _SWAGGER["ObjectReference.fieldPath"], priority=1),
        _col("Source", "string", _SWAGGER["Event.source"], priority=1),
        _col("Message", "string", _SWAGGER["Event.message"]),
        _col("First Seen", "string", _SWAGGER["Event.firstTimestamp"], priority=1),
        _col("Count", "string", _SWAGGER["Event.count"], priority=1),
        _col("Name", "string", _SWAGGER["ObjectMeta.name"], fmt="name", priority=1),
    ),
    "limitranges": _DEFAULT_COLUMNS,
    "namespaces": (_NAME, _col("Status", "string", "The status of the namespace"), _AGE),
    "nodes": (
        _NAME,
        _col("Status", "string", "The status of the node"),
        _col("Roles", "string", "The roles of the node"),
        _AGE,
        _col("Version", "string", _SWAGGER["NodeSystemInfo.kubeletVersion"]),
        _col("Internal-IP", "string", _SWAGGER["NodeStatus.addresses"], priority=1),
        _col("External-IP", "string", _SWAGGER["NodeStatus.addresses"], priority=1),
        _col("OS-Image", "string", _SWAGGER["NodeSystemInfo.osImage"], priority=1),
        _col("Kernel-Version", "string", _SWAGGER["NodeSystemInfo.kernelVersion"], priority=1),
        _col(
            "Container-Runtime",
            "string",
            _SWAGGER["NodeSystemInfo.containerRuntimeVersion"],
            priority=1,
        ),
    ),
    "persistentvolumeclaims": (
        _NAME,
        _col("Status", "string", _SWAGGER["PersistentVolumeClaimStatus.phase"]),
        _col("Volume", "string", _SWAGGER["PersistentVolumeClaimSpec.volumeName"]),
        _col("Capacity", "string", _SWAGGER["PersistentVolumeClaimStatus.capacity"]),
        _col("Access Modes", "string", _SWAGGER["PersistentVolumeClaimStatus.accessModes"]),
        _col("StorageClass", "string", "StorageClass of the pvc"),
        _col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
        _AGE,
        _col("VolumeMode", "string", _SWAGGER["PersistentVolumeClaimSpec.volumeMode"], priority=1),
    ),
    "persistentvolumes": (
        _NAME,
        _col("Capacity", "string", _SWAGGER["PersistentVolumeSpec.capacity"]),
        _col("Access Modes", "string", _SWAGGER["PersistentVolumeSpec.accessModes"]),
        _col(
            "Reclaim Policy",
            "string",
            _SWAGGER["PersistentVolumeSpec.persistentVolumeReclaimPolicy"],
        ),
        _col("Status", "string", _SWAGGER["PersistentVolumeStatus.phase"]),
        _col("Claim", "string", _SWAGGER["PersistentVolumeSpec.claimRef"]),
        _col("StorageClass", "string", "StorageClass of the pv"),
        _col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
        _col("Reason", "string", _SWAGGER["PersistentVolumeStatus.reason"]),
        _AGE,
        _col("VolumeMode", "string", _SWAGGER["PersistentVolumeSpec.volumeMode"], priority=1),
    ),
    "pods": (
        _NAME,
        _col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
        _col("Status", "string", "The aggregate status of the containers in this pod."),
        _col(
            "Restarts",
            "string",
            "The number of times the containers in this pod have been restarted and when the "
            "last container in this pod has restarted.",
        ),
        _AGE,
        _col("IP", "string", _SWAGGER["PodStatus.podIP"], priority=1),
        _col("Node", "string", _SWAGGER["PodSpec.nodeName"], priority=1),
        _col("Nominated Node", "string", _SWAGGER["PodStatus.nominatedNodeName"], priority=1),
        _col("Readiness Gates", "string", _SWAGGER["PodSpec.readinessGates"], priority=1),
    ),
    "resourcequotas": (
        _NAME,
        _col(
            "Request",
            "string",
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        _col(
            "Limit",
            "string",
            "Limits control the maximum amount of cpu/memory that a container may use "
            "independent of contention on the node.",
        ),
        _AGE,
    ),
    "secrets": (
        _NAME,
        _col("Type", "string", _SWAGGER["Secret.type"]),
        _col("Data", "string", _SWAGGER["Secret.data"]),
        _AGE,
    ),
    "serviceaccounts": (
        _NAME,
        _col("Secrets", "string", _SWAGGER["ServiceAccount.secrets"]),
        _AGE,
    ),
    "services": (
        _NAME,
        _col("Type", "string", _SWAGGER["ServiceSpec.type"]),
        _col("Cluster-IP", "string", _SWAGGER["ServiceSpec.clusterIP"]),
        _col("External-IP", "string", _SWAGGER["ServiceSpec.externalIPs"]),
        _col("Port(s)", "string", _SWAGGER["ServiceSpec.ports"]),
        _AGE,
        _col("Selector", "string", _SWAGGER["ServiceSpec.selector"], priority=1),
    ),
    "controllerrevisions": (
        _NAME,
        _col("Controller", "string", "Controller of the object"),
        _col("Revision", "string", _SWAGGER["ControllerRevision.revision"]),
        _AGE,
    ),
    "daemonsets": (
        _NAME,
        _col("Desired", "integer", _SWAGGER["DaemonSetStatus.desiredNumberScheduled"]),
        _col("Current", "integer", _SWAGGER["DaemonSetStatus.currentNumberScheduled"]),
        _col("Ready", "integer", _SWAGGER["DaemonSetStatus.numberReady"]),
        _col("Up-to-date", "integer", _SWAGGER["DaemonSetStatus.updatedNumberScheduled"]),
        _col("Available", "integer", _SWAGGER["DaemonSetStatus.numberAvailable"]),
        _col("Node Selector", "string", _SWAGGER["PodSpec.nodeSelector"]),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _col("Selector", "string", _SWAGGER["DaemonSetSpec.selector"], priority=1),
    ),
    "deployments": (
        _NAME,
        _col("Ready", "string", _READY),
        _col("Up-to-date", "string", _SWAGGER["DeploymentStatus.updatedReplicas"]),
        _col("Available", "string", _SWAGGER["DeploymentStatus.availableReplicas"]),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _col("Selector", "string", _SWAGGER["DeploymentSpec.selector"], priority=1),
    ),
    "replicasets": (
        _NAME,
        _col("Desired", "integer", _SWAGGER["ReplicaSetSpec.replicas"]),
        _col("Current", "integer", _SWAGGER["ReplicaSetStatus.replicas"]),
        _col("Ready", "integer", _SWAGGER["ReplicaSetStatus.readyReplicas"]),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _col("Selector", "string", _SWAGGER["ReplicaSetSpec.selector"], priority=1),
    ),
    "statefulsets": (_NAME, _col("Ready", "string", _READY), _AGE, _CONTAINERS, _IMAGES),
    "horizontalpodautoscalers": (
        _NAME,
        _col("Reference", "string", _SWAGGER["HorizontalPodAutoscalerSpec.scaleTargetRef"]),
        _col("Targets", "string", _SWAGGER["HorizontalPodAutoscalerSpec.metrics"]),
        _col("MinPods", "string", _SWAGGER["HorizontalPodAutoscalerSpec.minReplicas"]),
        _col("MaxPods", "string", _SWAGGER["HorizontalPodAutoscalerSpec.maxReplicas"]),
        _col("Replicas", "string", _SWAGGER["HorizontalPodAutoscalerStatus.currentReplicas"]),
        _AGE,
    ),
    "cronjobs": (
        _NAME,
        _col("Schedule", "string", _SWAGGER["CronJobSpec.schedule"]),
        _col("Timezone", "string", _SWAGGER["CronJobSpec.timeZone"]),
        _col("Suspend", "boolean", _SWAGGER["CronJobSpec.suspend"]),
        _col("Active", "integer", _SWAGGER["CronJobStatus.active"]),
        _col("Last Schedule", "string", _SWAGGER["CronJobStatus.lastScheduleTime"]),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _col("Selector", "string", _SWAGGER["JobSpec.selector"], priority=1),
    ),
    "jobs": (
        _NAME,
        _col("Status", "string", "Status of the job."),
        _col("Completions", "string", _SWAGGER["JobStatus.succeeded"]),
        _col("Duration", "string", "Time required to complete the job."),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _col("Selector", "string", _SWAGGER["JobSpec.selector"], priority=1),
    ),
    "leases": (_NAME, _col("Holder", "string", _SWAGGER["LeaseSpec.holderIdentity"]), _AGE),
    "endpointslices": (
        _NAME,
        _col("AddressType", "string", _SWAGGER["EndpointSlice.addressType"]),
        _col("Ports", "string", _SWAGGER["EndpointSlice.ports"]),
        _col("Endpoints", "string", _SWAGGER["EndpointSlice.endpoints"]),
        _AGE,
    ),
    # Upstream describes this column with ObjectMeta's (absent) "handler" doc: empty.
    "runtimeclasses": (_NAME, _col("Handler", "string", ""), _AGE),
    "poddisruptionbudgets": (
        _NAME,
        _col("Min Available", "string", "The minimum number of pods that must be available."),
        _col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
        _col(
            "Allowed Disruptions",
            "integer",
            "Calculated number of pods that may be disrupted at this time.",
        ),
        _AGE,
    ),
    "clusterrolebindings": _binding_columns("ClusterRoleBinding"),
    "clusterroles": _DEFAULT_COLUMNS,
    "rolebindings": _binding_columns("RoleBinding"),
    "roles": _DEFAULT_COLUMNS,
    "priorityclasses": (
        _NAME,
        _col("Value", "integer", _SWAGGER["PriorityClass.value"]),
        _col("Global-Default", "boolean", _SWAGGER["PriorityClass.globalDefault"]),
        _AGE,
        # Priority 0 upstream too, so kubectl shows it without -o wide.
        _col("PreemptionPolicy", "string", _SWAGGER["PriorityClass.preemptionPolicy"]),
    ),
}

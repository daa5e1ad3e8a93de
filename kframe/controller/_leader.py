"""Leader election for the controller manager (upstream controllermanager.go ``leaderElectAndRun``).

Several managers may run against one API server; only the holder of the Lease
``kube-system/kube-controller-manager`` runs controllers. The others wait, and take over once
the holder has not renewed for the lease duration (at once, when it released the Lease on a
clean shutdown).

Upstream, a manager that loses its lease exits (``klog.Fatalf("leaderelection lost")``) and the
process supervisor starts it again. In-process there is no supervisor, so when leadership is
lost the controllers are stopped (their workers cancelled, their informers closed) and then
either :meth:`ControllerManager.run` raises :class:`LeadershipLost` (the default, as upstream's
exit; ``kframe controller-manager`` prints it and exits 1) or, with ``recampaign``, the manager
builds its controllers afresh and contends again (``kframe up``, whose API server keeps running).
"""

from __future__ import annotations

import socket
import uuid

import attrs

__all__ = [
    "LEASE_NAME",
    "LEASE_NAMESPACE",
    "LeaderElection",
    "LeadershipLost",
    "default_identity",
]

#: Upstream's ``--leader-elect-resource-name`` and ``--leader-elect-resource-namespace``.
LEASE_NAME = "kube-controller-manager"
LEASE_NAMESPACE = "kube-system"


def default_identity() -> str:
    """``<hostname>_<uuid>``, as kube-controller-manager names itself in the Lease: unique per
    process, so a restarted manager is a new candidate."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


class LeadershipLost(RuntimeError):
    """The manager stopped leading (its lease was not renewed in time); controllers stopped."""


@attrs.frozen(kw_only=True)
class LeaderElection:
    """How a :class:`~kframe.controller.ControllerManager` contends for its Lease
    (upstream's ``--leader-elect*`` flags, with their defaults).

    ``enabled`` False runs the controllers at once, unguarded (``--leader-elect=false``).
    ``identity`` empty: :func:`default_identity`. ``recampaign``: after losing the lease,
    contend again instead of raising :class:`LeadershipLost`. ``release_on_cancel``: a manager
    stopped cleanly clears the holder so another takes over without waiting out the lease.
    """

    enabled: bool = True
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    name: str = LEASE_NAME
    namespace: str = LEASE_NAMESPACE
    identity: str = ""
    recampaign: bool = False
    release_on_cancel: bool = True

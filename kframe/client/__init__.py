"""The Client every component uses to reach the API server, in-process or over HTTP.

Both implementations have the same semantics: a component written against :class:`Client` runs
inside ``kframe up`` (in-process, no HTTP) and alone against a remote API server (HTTP).
"""

from kframe.client._clock import Clock, FakeClock, LoopClock, TimerHandle
from kframe.client._events import EventRecorder
from kframe.client._http import HttpClient
from kframe.client._informer import Indexer, Informer, object_key
from kframe.client._inprocess import InProcessClient
from kframe.client._interface import Client, ObjectList, PatchType, WatchEvent
from kframe.client._leaderelection import (
    LeaderElectionConfig,
    LeaderElectionRecord,
    LeaderElector,
)
from kframe.client._workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    ShutDown,
    WorkQueue,
    default_controller_rate_limiter,
)

__all__ = [
    "Client",
    "HttpClient",
    "InProcessClient",
    "Indexer",
    "Informer",
    "ObjectList",
    "PatchType",
    "WatchEvent",
    "object_key",
    # work queues
    "WorkQueue",
    "ShutDown",
    "RateLimiter",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "BucketRateLimiter",
    "MaxOfRateLimiter",
    "default_controller_rate_limiter",
    # leader election
    "LeaderElectionConfig",
    "LeaderElectionRecord",
    "LeaderElector",
    # events
    "EventRecorder",
    # time (work queues, rate limiters and leader election)
    "Clock",
    "TimerHandle",
    "LoopClock",
    "FakeClock",
]

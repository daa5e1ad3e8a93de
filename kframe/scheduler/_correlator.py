"""client-go's EventCorrelator: moved to :mod:`kframe.client._event_correlator`, shared by every
component's :class:`~kframe.client.EventRecorder`; re-exported here for the scheduler's users."""

from kframe.client._event_correlator import (
    AGGREGATE_INTERVAL,
    AGGREGATE_MAX_EVENTS,
    COMBINED_PREFIX,
    MAX_CACHE,
    SPAM_BURST,
    SPAM_QPS,
    Correlation,
    EventCorrelator,
    ObjectKey,
)

__all__ = [
    "AGGREGATE_INTERVAL",
    "AGGREGATE_MAX_EVENTS",
    "COMBINED_PREFIX",
    "MAX_CACHE",
    "SPAM_BURST",
    "SPAM_QPS",
    "Correlation",
    "EventCorrelator",
    "ObjectKey",
]

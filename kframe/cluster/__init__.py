"""Composing kframe's components into processes: ``kframe up`` and ``kframe apiserver``."""

from kframe.cluster._kubeconfig import write_kubeconfig
from kframe.cluster._run import Settings, run_apiserver, run_until_signal, run_up

__all__ = ["Settings", "run_apiserver", "run_until_signal", "run_up", "write_kubeconfig"]

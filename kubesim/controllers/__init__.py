"""The controllers that make a simulated cluster behave like one (see `base.py` for the runtime)."""

from __future__ import annotations

from kubesim.api import ClusterAPI
from kubesim.controllers.autoscaling import HorizontalPodAutoscalerController
from kubesim.controllers.base import Controller
from kubesim.controllers.batch import CronJobController, JobController
from kubesim.controllers.daemonsets import DaemonSetController
from kubesim.controllers.deployments import DeploymentController
from kubesim.controllers.disruption import DisruptionController
from kubesim.controllers.kubelet import Kubelet
from kubesim.controllers.lifecycle import GarbageCollector, NamespaceController, NodeStatusController
from kubesim.controllers.network import (
    EndpointsController,
    LoadBalancerController,
    VolumeBinder,
    install_admission,
)
from kubesim.controllers.replicasets import ReplicaSetController
from kubesim.controllers.scheduler import Scheduler
from kubesim.controllers.statefulsets import StatefulSetController


def default_controllers(api: ClusterAPI, sidecar_injection: bool = True) -> list[Controller]:
    """Every controller a cluster runs, in no particular order (each is level-triggered)."""
    install_admission(api, sidecar_injection)
    return [GarbageCollector(api), NamespaceController(api), NodeStatusController(api),
            Scheduler(api), Kubelet(api), JobController(api), CronJobController(api),
            LoadBalancerController(api), EndpointsController(api), VolumeBinder(api),
            DeploymentController(api), ReplicaSetController(api), StatefulSetController(api),
            DaemonSetController(api), HorizontalPodAutoscalerController(api), DisruptionController(api)]

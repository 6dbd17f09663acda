"""kubesim: a Kubernetes-API-compatible simulated cluster.

Owns an in-memory API server (aiohttp) that real kubectl 1.32 and the official `kubernetes` Python
client use unmodified, plus the controllers that make workloads behave like a cluster (Deployments,
ReplicaSets, Pods, a scheduler, a kubelet, Jobs, CronJobs, HPAs, PVCs, Services). It imports only
`fleetline`, never `hub` or `agent`.
"""

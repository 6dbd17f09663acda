"""kubesim's fixtures (`sim`, `kube`, `kubectl`, `sim_options`) for every agent test: the agent's tests run
against a live simulated cluster over HTTP."""

from tests.kubesim.conftest import kube, kubectl, sim, sim_options  # noqa: F401  (fixtures)

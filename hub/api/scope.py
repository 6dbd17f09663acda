"""Scope checks: whether a token's regions and environments cover a cluster, an environment or a listed item.

A token without scopes covers everything. A region- or environment-scoped token sees and acts only on clusters
whose region and environment are in its scope. An environment spans regions: a region-scoped token may act on
it (resume or abort its rollout, promote into it, roll it back) only when every region with clusters in it is in
scope, and sees its environment-wide items (rollouts) when at least one is. Refusals are 403 `out_of_scope` (or
`region_required`), with a message naming the token's scope and what was asked; the app audits them.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.api.errors import Forbidden, NotFound
from hub.api.facade import HubFacade
from hub.api.tokens import Token


def describe_scope(token: Token) -> str:
    regions = ", ".join(token.regions) or "any"
    environments = ", ".join(token.environments) or "any"
    return f"token {token.name!r} is scoped to region(s) {regions} and environment(s) {environments}"


class Scope:
    """One request's caller, checked against the fleet through the facade (lookups cached for the request)."""

    def __init__(self, facade: HubFacade, token: Token) -> None:
        self.facade = facade
        self.token = token
        self._clusters: dict[str, tuple[str, str] | None] = {}
        self._environments: dict[str, list[str] | None] = {}

    # ---- acting: raise Forbidden ---------------------------------------------------------------------------

    async def require_cluster(self, cluster: str) -> None:
        """403 unless the cluster is in scope; 404 (from the facade) for an unknown cluster."""
        region, environment = await self.facade.cluster_scope(cluster)
        if not self.token.covers(region, environment):
            raise Forbidden(f"{describe_scope(self.token)}; cluster {cluster!r} is in region {region}, environment "
                            f"{environment}: use a token whose scope includes it", "out_of_scope")

    async def require_environment(self, environment: str) -> None:
        """403 unless the environment is in scope and, for a region-scoped token, all its regions are."""
        if not self.token.environment_in_scope(environment):
            raise Forbidden(f"{describe_scope(self.token)}; environment {environment!r} is not in it: use a token "
                            "whose scope includes it", "out_of_scope")
        if not self.token.regions:
            return
        outside = sorted(set(await self.facade.environment_regions(environment)) - set(self.token.regions))
        if outside:
            raise Forbidden(f"{describe_scope(self.token)}; environment {environment!r} also has clusters in "
                            f"{', '.join(outside)}: acting on the whole environment needs a token whose scope "
                            "includes those regions", "out_of_scope")

    def require_region(self, region: str) -> None:
        if not self.token.region_in_scope(region):
            raise Forbidden(f"{describe_scope(self.token)}; region {region!r} is not in it: use a token whose "
                            "scope includes it", "out_of_scope")

    def default_region(self, region: str | None, what: str) -> str | None:
        """The region a region-scoped token acts in: the one given (checked), else its only region; 403
        `region_required` when it has several and named none."""
        if region is not None:
            self.require_region(region)
            return region
        if not self.token.regions:
            return None
        if len(self.token.regions) == 1:
            return self.token.regions[0]
        raise Forbidden(f"{describe_scope(self.token)}: {what} needs a region from its scope "
                        f"({', '.join(self.token.regions)})", "region_required")

    # ---- seeing: filter ------------------------------------------------------------------------------------

    async def visible(self, item: dict) -> bool:
        """Whether a listed or streamed item is in scope, from its `cluster`, `region` and `environment` keys."""
        token = self.token
        if not token.scoped:
            return True
        cluster = item.get("cluster")
        if isinstance(cluster, str) and cluster:
            where = await self._cluster(cluster)
            if where is not None:
                return token.covers(*where)
        region, environment = item.get("region") or None, item.get("environment") or None  # "": hub-wide
        if region is not None and not token.region_in_scope(region):
            return False
        if environment is not None and not token.environment_in_scope(environment):
            return False
        if region is None and environment is None:
            return not cluster  # hub-wide items are shown; items about a cluster the fleet no longer names are not
        if region is None and token.regions:
            return bool(set(await self._environment(environment) or ()) & set(token.regions))
        return True

    async def filter(self, items: Iterable[dict]) -> list[dict]:
        if not self.token.scoped:
            return list(items)
        return [item for item in items if await self.visible(item)]

    async def _cluster(self, cluster: str) -> tuple[str, str] | None:
        if cluster not in self._clusters:
            try:
                self._clusters[cluster] = await self.facade.cluster_scope(cluster)
            except NotFound:
                self._clusters[cluster] = None
        return self._clusters[cluster]

    async def _environment(self, environment: str) -> list[str] | None:
        if environment not in self._environments:
            try:
                self._environments[environment] = await self.facade.environment_regions(environment)
            except NotFound:
                self._environments[environment] = None
        return self._environments[environment]

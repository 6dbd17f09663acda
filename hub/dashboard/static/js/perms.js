// What the logged-in token may do, from GET /api/v1/whoami: the page offers only that (a viewer sees no buttons,
// an operator scoped to eu cannot approve for us-east). The hub checks again on every request.

const ROLES = ["viewer", "operator", "admin"];

export class Permissions {
  constructor(caller, model) {
    this.caller = caller;
    this.model = model;
    this.regions = caller.regions || [];
    this.environments = caller.environments || [];
  }

  get operator() {
    return ROLES.indexOf(this.caller.role) >= 1;
  }

  regionInScope(region) {
    return !this.regions.length || this.regions.includes(region);
  }

  environmentInScope(environment) {
    return !this.environments.length || this.environments.includes(environment);
  }

  // sync and roll back an application on a cluster
  canOperateCluster(name) {
    const cluster = this.model.clusters.get(name);
    return this.operator && Boolean(cluster) && this.regionInScope(cluster.region) &&
      this.environmentInScope(cluster.environment);
  }

  // approve a pending release (for its region's clusters)
  canApprove(item) {
    return this.operator && this.environmentInScope(item.environment) &&
      (item.region ? this.regionInScope(item.region) : !this.regions.length);
  }

  // resume or abort a rollout: acts on the whole environment, so the hub wants the environment in scope and,
  // for a region-scoped token, every region that has clusters of the environment. The page cannot know those
  // regions (the fleet it reads holds only the token's own), so a region-scoped token is not offered it.
  canActOnEnvironment(environment) {
    return this.operator && this.environmentInScope(environment) && !this.regions.length;
  }

  describe() {
    const scope = [];
    if (this.regions.length) scope.push(`regions ${this.regions.join(", ")}`);
    if (this.environments.length) scope.push(`environments ${this.environments.join(", ")}`);
    return `${this.caller.name} (${this.caller.role}${scope.length ? `; ${scope.join("; ")}` : ""})`;
  }
}

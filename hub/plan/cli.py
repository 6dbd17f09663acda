"""`fleetline render --repo ...` and `fleetline impact`: the hub's rendering and change impact, from Git.

`fleetline render --repo PATH [--revision REV] (--cluster NAME [--app APP]... | DIR) [-o yaml|json]`

Renders from a Git commit's tree (no checkout, so any revision can be rendered and two revisions diffed):
with `--cluster`, every application fleet.yaml targets at that cluster, exactly as the hub would send it
(tracking annotation, app label, destination namespace; policy warnings on stderr); with DIR, one
kustomization directory of the repository. Exit status 1 when any application failed to render or was
refused by a policy (the others are still printed), 2 for usage errors.

`fleetline impact --repo PATH --from REV [--to REV] [-o text|json]` lists the (cluster, application) pairs
a change between two revisions affects (what the hub would re-render and push), by rendering the first
revision to learn what each pair reads and diffing the trees; pairs whose render fails are listed too.
"""

from __future__ import annotations

import argparse
import json
import sys

from hub.render.errors import RenderError


def add_impact_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "impact", help="list the (cluster, application) pairs a change between two revisions affects",
        description="Render the fleet at --from to learn what every (cluster, application) pair reads, diff the "
                    "trees of --from and --to, and print the pairs the hub would re-render and push.")
    parser.add_argument("--repo", metavar="PATH", required=True, help="a Git repository holding fleet.yaml")
    parser.add_argument("--from", dest="old", metavar="REV", required=True, help="the revision the fleet runs")
    parser.add_argument("--to", dest="new", metavar="REV", default="HEAD", help="the new revision (default HEAD)")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    parser.set_defaults(run=run_impact)
    return parser


def run_impact(args: argparse.Namespace) -> int:
    from hub.plan.fleetrender import FleetRenderer

    renderer = FleetRenderer(args.repo)
    try:
        renderer.render(args.old)
        state, affected = renderer.advance(args.new)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - GitPython raises several types for a path that is no repository
        print(f"error: {args.repo}: cannot read the repository ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    rows = [{"cluster": p.cluster, "app": p.app, "ok": state.states[p].ok,
             "contentHash": state.states[p].content_hash, "errors": state.states[p].errors}
            for p in sorted(affected)]
    if args.output == "json":
        json.dump({"from": args.old, "to": state.revision, "pairs": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{len(rows)} of {len(state.states)} (cluster, application) pairs affected")
    for row in rows:
        print(f"{row['cluster']}/{row['app']}" + ("" if row["ok"] else f"  (fails: {row['errors'][0]})"))
    return 0


def run_repository_render(args: argparse.Namespace) -> int:
    from hub.render.files import GitTreeFiles

    try:
        files = GitTreeFiles(args.repo, args.revision)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - GitPython raises several types for a path that is no repository
        print(f"error: {args.repo}: not a Git repository ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    if args.cluster:
        return _render_cluster(args, files)
    if not args.directory:
        print("error: with --repo, give --cluster NAME or a kustomization directory of the repository",
              file=sys.stderr)
        return 2
    return _render_directory(args, files)


def _render_directory(args: argparse.Namespace, files: object) -> int:
    from hub.render.build import Builder
    from hub.render.emit import to_yaml

    try:
        resources = Builder(files).build(args.directory.strip("/"))  # type: ignore[arg-type]
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    objects = [res.obj for res in resources]
    if args.output == "json":
        json.dump({"apiVersion": "v1", "kind": "List", "items": objects}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_yaml(objects))
    return 0


def _render_cluster(args: argparse.Namespace, files: object) -> int:
    from hub.fleet.load import load_fleet
    from hub.plan.desired import Renderer
    from hub.render.emit import to_yaml

    try:
        fleet = load_fleet(files)  # type: ignore[arg-type]
        fleet.cluster(args.cluster)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyError:
        names = ", ".join(c.name for c in fleet.clusters)
        print(f"error: fleet.yaml: no cluster named {args.cluster!r} (clusters: {names})", file=sys.stderr)
        return 1
    targeted = {a.name for a in fleet.applications_for(args.cluster)}
    unknown = sorted(set(args.app or []) - targeted)
    if unknown:
        print(f"error: fleet.yaml: cluster {args.cluster!r} runs no application named {', '.join(unknown)} "
              f"(it runs: {', '.join(sorted(targeted)) or 'none'})", file=sys.stderr)
        return 1
    states = Renderer().render_cluster(files, fleet, args.cluster, args.app)  # type: ignore[arg-type]
    for state in states:
        for finding in state.findings:
            if finding.severity != "error":
                print(f"warning: {state.app}: {finding}", file=sys.stderr)
        for error in state.errors:
            print(f"error: {state.app}: {error}", file=sys.stderr)
    revision = files.revision  # type: ignore[attr-defined]
    if args.output == "json":
        json.dump({"cluster": args.cluster, "revision": revision, "applications": [
            {"name": s.app, "source": s.source, "namespace": s.namespace, "contentHash": s.content_hash,
             "errors": s.errors, "warnings": [str(f) for f in s.findings if f.severity != "error"],
             "objects": s.objects} for s in states]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for state in states:
            if state.ok:
                sys.stdout.write(f"# application {state.app} from {state.source} at {revision[:12]} "
                                 f"({len(state.objects)} objects, {state.content_hash})\n")
                sys.stdout.write(to_yaml(state.objects))
                sys.stdout.write("---\n" if state is not states[-1] else "")
    return 0 if all(state.ok for state in states) else 1

"""`fleetline render --repo PATH [--revision REV] (--cluster NAME [--app APP]... | DIR) [-o yaml|json]`.

Renders from a Git commit's tree (no checkout, so any revision can be rendered and two revisions diffed):
with `--cluster`, every application fleet.yaml targets at that cluster, exactly as the hub would send it
(tracking annotation, app label, destination namespace; policy warnings on stderr); with DIR, one
kustomization directory of the repository. Exit status 1 when any application failed to render or was
refused by a policy (the others are still printed), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys

from hub.render.errors import RenderError


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

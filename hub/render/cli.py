"""`fleetline render DIR`: print the YAML stream `kubectl kustomize DIR` would print, rendered in-process.

Owns only the command line: argument parsing, choosing the repository root the build may read (`--root`, by
default the Git work tree holding DIR, else the current directory when DIR is inside it, else DIR), printing
the stream to stdout, and turning a `RenderError` into `error: <message>` on stderr with exit status 1. The
rendering itself is `hub.render.build`.
"""

from __future__ import annotations

import argparse
import os
import sys


def add_render_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `fleetline render`; returns the parser so that further modes can add their options."""
    parser = sub.add_parser(
        "render", help="render a kustomization directory like `kubectl kustomize`, or a cluster's desired state",
        description="Build the kustomization in DIR in-process (kustomize v5.5 semantics) and print the resulting "
                    "YAML stream, as `kubectl kustomize DIR` does; or, with --repo and --cluster, print what the "
                    "hub would send to that cluster, rendered from a Git revision without a checkout.")
    parser.add_argument("directory", metavar="DIR", nargs="?",
                        help="directory holding a kustomization.yaml (with --repo: a path inside the repository)")
    parser.add_argument("--root", metavar="PATH",
                        help="repository root: the build reads nothing outside it (default: the Git work tree "
                             "holding DIR, else the current directory if DIR is inside it, else DIR)")
    parser.add_argument("--repo", metavar="PATH", help="a Git repository (work tree or bare) to render from")
    parser.add_argument("--revision", metavar="REV", default="HEAD",
                        help="with --repo: the commit, branch or tag to render (default HEAD)")
    parser.add_argument("--cluster", metavar="NAME", help="with --repo: render this cluster of fleet.yaml")
    parser.add_argument("--app", metavar="APP", action="append",
                        help="with --cluster: only this application (repeatable)")
    parser.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml", help="output format")
    parser.set_defaults(run=run_render)
    return parser


def run_render(args: argparse.Namespace) -> int:
    if args.repo:
        from hub.plan.cli import run_repository_render

        return run_repository_render(args)
    if args.cluster or args.app:
        print("error: --cluster and --app need --repo (the Git repository holding fleet.yaml)", file=sys.stderr)
        return 2
    if not args.directory:
        print("error: give a kustomization directory, or --repo PATH --cluster NAME", file=sys.stderr)
        return 2
    from hub.render.build import Builder
    from hub.render.emit import to_yaml
    from hub.render.errors import RenderError
    from hub.render.files import DirectoryFiles

    directory = os.path.realpath(args.directory)
    if not os.path.isdir(directory):
        print(f"error: {args.directory}: not a directory (give the directory holding a kustomization.yaml)",
              file=sys.stderr)
        return 1
    root = os.path.realpath(args.root) if args.root else repository_root(directory)
    if not _inside(directory, root):
        print(f"error: {args.directory}: not inside the repository root {args.root}", file=sys.stderr)
        return 1
    path = os.path.relpath(directory, root).replace(os.sep, "/")
    try:
        resources = Builder(DirectoryFiles(root)).build("" if path == "." else path)
    except RenderError as exc:
        shown = os.path.relpath(os.path.join(root, exc.file)) if exc.file else root
        print(f"error: {RenderError(shown, exc.message, exc.field).describe()}", file=sys.stderr)
        return 1
    if args.output == "json":
        import json

        json.dump({"apiVersion": "v1", "kind": "List", "items": [res.obj for res in resources]}, sys.stdout,
                  indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_yaml(res.obj for res in resources))
    return 0


def repository_root(directory: str) -> str:
    """The Git work tree holding `directory`, else the current directory if it holds `directory`, else
    `directory` itself (a kustomization may then refer to nothing above it)."""
    candidate = directory
    while True:
        if os.path.exists(os.path.join(candidate, ".git")):
            return candidate
        parent = os.path.dirname(candidate)
        if parent == candidate:
            break
        candidate = parent
    cwd = os.path.realpath(os.getcwd())
    return cwd if _inside(directory, cwd) and cwd != os.path.dirname(cwd) else directory


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)

"""The hub's renderer: a kustomize-compatible overlay engine, in-process.

Owns turning a directory of a repository (a kustomization, or plain manifests) into the list of objects
kustomize v5.5 would print for it: the same objects, field values, list orders and generated names. Reads
files only through `hub.render.files` (a working directory or a Git commit's tree), never outside the
repository. Knows nothing of clusters, fleets or agents: `hub.plan` decides what to render for whom.
"""

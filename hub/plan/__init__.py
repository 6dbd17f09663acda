"""The hub's planning: from a fleet definition and a rendered repository to each cluster's desired state.

Owns what the hub would send to a cluster (the rendered applications with their tracking metadata), the
policies rendered output must pass, and the change impact of a commit (which (cluster, application) pairs
a change of files affects). Reads the repository only through `hub.render`; knows nothing of gRPC.
"""

"""The three patch engines that kubesim and the hub's renderer share.

Owns the semantics of the patch content types kube-apiserver accepts (besides server-side apply):
RFC 7386 JSON merge patch (`merge`), RFC 6902 JSON patch (`jsonpatch`) and Kubernetes strategic merge
patch (`strategic`, driven by the list and map semantics in `fleetline.schema`). Pure functions over
decoded JSON values: no I/O, no HTTP status codes (callers map `PatchError` to 400/422 and
`PatchTestFailed` to 422), and no imports of `hub`, `agent` or `kubesim`.
"""

from fleetline.patch.jsonpatch import PatchTestFailed, apply_json_patch, parse_pointer
from fleetline.patch.merge import PatchError, apply_merge_patch, create_merge_patch, json_equal
from fleetline.patch.strategic import apply_strategic_merge_patch, create_two_way_strategic_merge_patch

__all__ = [
    "PatchError",
    "PatchTestFailed",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
    "create_merge_patch",
    "create_two_way_strategic_merge_patch",
    "json_equal",
    "parse_pointer",
]

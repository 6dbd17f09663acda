"""Name references: after prefixes, suffixes, namespaces and hash suffixes renamed objects, make every field that
names one of them (a Deployment's configMapRef, an HPA's scaleTargetRef, a RoleBinding's subjects, ...)
name it by its new name. kustomize's nameReference transformer (api/filters/nameref), run once at the end
of a top-level build, over the field table in `hub.render.nameref_table`.

For each referrer object and each table field it has, the value (a name) is matched against the objects
that could be referred to, by kustomize's sieve:
- the object had that name before one of its renames (its current name does not count; an object never
  renamed needs no fix), and one of its previous ids has the referral kind;
- for `roleRef/name`, the object's kind and group are those the roleRef declares;
- it is in the referrer's namespace, or is cluster-scoped, or is a ServiceAccount (or the referrer is
  cluster-scoped); a RoleBinding may also see objects in the namespaces of its ServiceAccount subjects;
- when several remain, those whose prefixes and suffixes end like the referrer's win; several objects with
  the same new name are fine; otherwise the reference is ambiguous, which is an error.
A field that is a mapping (`subjects` entries, a webhook's `clientConfig.service`) also narrows the match by
its `namespace`, and gets the referral's namespace written into it. Only referrer fields change here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.render.errors import RenderError
from hub.render.fieldspecs import FieldSpec, FieldSpecError, update_field
from hub.render.hashing import scalar_text
from hub.render.nameref_table import NAME_REFERENCES, Gvk
from hub.render.resource import ResId, Resource, is_cluster_scoped
from hub.render.selectors import kustomize_ids


def fix_name_references(resources: list[Resource]) -> None:
    """Rewrite, in place, every name reference in `resources` to the current name of what it refers to."""
    if not any(res.previous_ids for res in resources):
        return  # nothing was ever renamed: every reference is already right
    index = _Index(resources)
    # A reference can only change if an object of the referred kind was renamed: skip the other entries.
    renamed_kinds = {rid.kind for res in resources if res.previous_ids for rid in res.all_ids()}
    for res in resources:
        referrer = _Referrer(res, index)
        original = kustomize_ids(res)[0]
        for referral, spec in _BY_REFERRER_KIND.get(original.kind, ()):
            if referral.kind in renamed_kinds and _selects(spec.group, spec.version, spec.kind, original):
                referrer.update(spec, referral)


# The table's entries by the kind of the referrer they apply to (every entry names one), in table order.
_BY_REFERRER_KIND: dict[str, tuple[tuple[Gvk, FieldSpec], ...]] = {
    kind: tuple((referral, spec) for referral, specs in NAME_REFERENCES for spec in specs if spec.kind == kind)
    for kind in {spec.kind for _, specs in NAME_REFERENCES for spec in specs}
}


def _selects(group: str, version: str, kind: str, rid: ResId) -> bool:
    """kustomize's Gvk.IsSelected: every non-empty part must be equal."""
    return (not group or group == rid.group) and (not version or version == rid.version) and \
        (not kind or kind == rid.kind)


def _scoped(res: Resource) -> bool:
    """Cluster-scoped by kustomize's table (keyed by apiVersion and kind)."""
    return is_cluster_scoped(res.api_version, res.kind)


def _effective(res: Resource, rid: ResId) -> str:
    """kustomize's EffectiveNamespace of one of `res`'s ids: "default" when unset, "" when cluster-scoped."""
    if is_cluster_scoped(res.api_version, rid.kind):
        return ""
    return rid.namespace or "default"


class _Index:
    """What the sieve asks about every object, computed once: previous ids, and who had which name before."""

    def __init__(self, resources: list[Resource]) -> None:
        self.resources = resources
        self.previous: dict[int, list[ResId]] = {}
        self.by_old_name: dict[str, list[Resource]] = {}
        self.by_original_namespace: dict[str, list[Resource]] = {}
        self.by_current_namespace: dict[str, list[Resource]] = {}
        for res in resources:
            ids = kustomize_ids(res)
            self.previous[id(res)] = ids[:-1]
            for name in dict.fromkeys(rid.name for rid in ids[:-1]):
                self.by_old_name.setdefault(name, []).append(res)
            if not _scoped(res):
                self.by_original_namespace.setdefault(_effective(res, ids[0]), []).append(res)
                self.by_current_namespace.setdefault(_effective(res, ids[-1]), []).append(res)


class _Referrer:
    """One object whose name fields are being fixed, with the objects it may refer to."""

    def __init__(self, res: Resource, index: _Index) -> None:
        self.res = res
        self.index = index
        self._visible: Callable[[Resource], bool] | None = None
        self.spec = FieldSpec("")
        self.referral = Gvk("", "", "")

    # -- which objects this referrer can see ------------------------------------------------------------

    @property
    def visible(self) -> Callable[[Resource], bool]:
        """Membership in kustomize's SubsetThatCouldBeReferencedByResource."""
        if self._visible is None:
            if _scoped(self.res):
                self._visible = lambda other: True
            else:
                mine = _effective(self.res, self.res.cur_id())
                extra = self._subject_namespaces()
                self._visible = lambda other: _scoped(other) or _effective(other, other.cur_id()) == mine or \
                    other.namespace in extra
        return self._visible

    def _subject_namespaces(self) -> set[str]:
        """The namespaces of a RoleBinding's ServiceAccount subjects."""
        if self.res.kind != "RoleBinding" or not isinstance(self.res.obj.get("subjects"), list):
            return set()
        found = set()
        for subject in self.res.obj["subjects"]:
            if isinstance(subject, dict) and "namespace" in subject and subject.get("kind") == "ServiceAccount":
                if not isinstance(subject["namespace"], str):
                    raise RenderError(self.res.origin, f"{self.res.cur_id()}: a ServiceAccount subject's namespace "
                                                       f"must be a string, found {subject['namespace']!r}",
                                      "subjects")
                found.add(subject["namespace"])
        return found

    # -- rewriting --------------------------------------------------------------------------------------

    def update(self, spec: FieldSpec, referral: Gvk) -> None:
        self.spec, self.referral = spec, referral
        try:
            update_field(self.res.obj, spec.path, self._set)
        except FieldSpecError as exc:
            raise RenderError(self.res.origin, f"{self.res.cur_id()}: {exc} while fixing the {referral.kind} name "
                                               f"reference at {spec.path}", spec.path.replace("/", ".")) from exc

    def _set(self, value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, dict):
            return self._set_mapping(value)
        if isinstance(value, list):
            for index, item in enumerate(value):
                if item is None:
                    continue
                if isinstance(item, dict):
                    value[index] = self._set_mapping(item)
                elif isinstance(item, list):
                    raise self._error(f"expected a name or a mapping with a name, found a list {item!r}")
                else:
                    value[index] = self._set_scalar(item)
            return value
        return self._set_scalar(value)

    def _set_scalar(self, value: Any) -> Any:
        old = value if isinstance(value, str) else scalar_text(value)
        chosen = self._select(old, None, with_namespace=False)
        if chosen is None or chosen.name == old:
            return value
        return chosen.name

    def _set_mapping(self, node: dict) -> dict:
        if "name" not in node:
            raise self._error(f"expected a mapping with a 'name' field, found keys {sorted(node)}")
        old = node["name"]
        old = old if isinstance(old, str) else ("" if old is None else scalar_text(old))
        chosen = self._select(old, self._by_namespace(node), with_namespace=True)
        if chosen is None or (chosen.name == old and not chosen.namespace):
            return node
        node["name"] = chosen.name
        if chosen.namespace:
            node["namespace"] = chosen.namespace
        return node

    def _by_namespace(self, node: dict) -> list[Resource] | None:
        """kustomize's filterMapCandidatesByNamespace: the mapping's namespace, compared with the candidates'
        original namespaces, or, when no candidate was originally there, with their current namespaces.
        None when the mapping has no namespace (every candidate stays)."""
        if "namespace" not in node:
            return None
        wanted = node["namespace"]
        wanted = wanted if isinstance(wanted, str) else ("" if wanted is None else scalar_text(wanted))
        original = [c for c in self.index.by_original_namespace.get(wanted, []) if self.visible(c)]
        if original:
            return original
        return [c for c in self.index.by_current_namespace.get(wanted, []) if self.visible(c)]

    def _select(self, old: str, among: list[Resource] | None, with_namespace: bool) -> Resource | None:
        """kustomize's selectReferral over the visible objects (or `among`, already narrowed)."""
        had_name = self.index.by_old_name.get(old, [])
        if among is None:
            candidates = [c for c in had_name if self.visible(c)]
        else:
            narrowed = {id(c) for c in among}
            candidates = [c for c in had_name if id(c) in narrowed]
        previous = self.index.previous
        sieves: list[Callable[[Resource], bool]] = [
            lambda c: any(_selects(self.referral.group, self.referral.version, self.referral.kind, rid)
                          for rid in previous[id(c)]),
            self._role_ref_sieve(),
            self._namespace_sieve(),
        ]
        for sieve in sieves:
            candidates = [c for c in candidates if sieve(c)]
        if len(candidates) == 1:
            return candidates[0]
        candidates = [c for c in candidates if _affixes_match(c, self.res, allow_empty=True)]
        if len(candidates) > 1:
            candidates = [c for c in candidates if _affixes_match(c, self.res, allow_empty=False)]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            return None
        first = candidates[0]
        if all(c.name == first.name and (not with_namespace or c.namespace == first.namespace)
               for c in candidates):
            return first
        found = "; ".join(f"{c.cur_id()} from {c.origin}" for c in candidates)
        raise self._error(f"the name {old!r} could refer to several renamed objects: {found}. Give them distinct "
                          "names, or put them in different namespaces")

    def _role_ref_sieve(self) -> Callable[[Resource], bool]:
        if not self.spec.path.endswith("roleRef/name"):
            return lambda c: True
        role_ref = self.res.obj.get("roleRef")
        if not isinstance(role_ref, dict) or role_ref.get("apiGroup") is None or role_ref.get("kind") is None:
            return lambda c: True
        group, kind = scalar_text(role_ref["apiGroup"]), scalar_text(role_ref["kind"])
        return lambda c: any(_selects(group, "", kind, rid) for rid in self.index.previous[id(c)])

    def _namespace_sieve(self) -> Callable[[Resource], bool]:
        if _scoped(self.res):
            return lambda c: True
        mine = _effective(self.res, self.res.cur_id())
        return lambda c: _scoped(c) or c.kind == "ServiceAccount" or _effective(c, c.cur_id()) == mine

    def _error(self, message: str) -> RenderError:
        where = f"{self.res.cur_id()}, {self.referral.kind} reference at {self.spec.path}"
        return RenderError(self.res.origin, f"{where}: {message}", self.spec.path.replace("/", "."))


def _affixes_match(candidate: Resource, referrer: Resource, allow_empty: bool) -> bool:
    """kustomize's PrefixesSuffixesEquals: the shorter list of prefixes (suffixes) ends the longer one."""
    pairs = ((_nonempty(candidate.prefixes), _nonempty(referrer.prefixes)),
             (_nonempty(candidate.suffixes), _nonempty(referrer.suffixes)))
    for mine, theirs in pairs:
        if allow_empty and (not mine or not theirs):
            continue
        if not _same_ending(mine, theirs):
            return False
    return True


def _nonempty(values: list[str]) -> list[str]:
    return [v for v in values if v]


def _same_ending(a: list[str], b: list[str]) -> bool:
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    if not shorter:
        return not longer
    return longer[len(longer) - len(shorter):] == shorter

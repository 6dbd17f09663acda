"""`images`: kustomize v5.5's ImageTagTransformer, one pass per entry, in order.

An entry `{name, newName, newTag, digest, tagSuffix}` matches a container image whose name part equals
`name` (kustomize compares with the regular expression `^name(:tag)?(@sha256:digest)?$`, so the image's
registry must be written in `name` too, and `.` in `name` matches any character as it does in kustomize).
A match gets `newName` for its name; `newTag` and `digest` replace both the old tag and digest
(`newTag` + `digest` gives `name:tag@digest`); `tagSuffix` (only when neither is set) is appended to the tag.

Like kustomize, each entry runs two passes over an object: first every `image` of the elements of any list
named `containers` or `initContainers`, anywhere in the object (this is how CronJobs and custom resources
are covered), then the images field specs (`spec/containers`, `spec/initContainers`,
`spec/template/spec/...`). An image both passes reach is transformed twice, which is invisible except for
`tagSuffix`, appended twice there, as kustomize does. CustomResourceDefinitions are never touched, and a
container without an image gets none.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from hub.render.errors import RenderError
from hub.render.fieldspec_tables import IMAGES
from hub.render.fieldspecs import apply_fieldspecs, describe
from hub.render.resource import Resource

# kustomize's images table says create, but its image filter never creates an image: neither do we.
_SPECS = tuple(replace(spec, create=False) for spec in IMAGES)
_ENTRY_FIELDS = ("name", "newName", "newTag", "digest", "tagSuffix")


def set_images(resources: list[Resource], images: list, file: str, field: str = "images") -> None:
    """Apply a kustomization's `images` entries, in order, to every resource (in place)."""
    if images is None:
        return
    if not isinstance(images, list):
        raise RenderError(file, f"expected a list of {{name, newName, newTag, digest}} entries, found "
                                f"{describe(images)}", field)
    for index, entry in enumerate(images):
        update = _parse_entry(entry, file, f"{field}[{index}]")
        for resource in resources:
            if resource.kind == "CustomResourceDefinition":
                continue
            _legacy_walk(resource.obj, update)
            apply_fieldspecs(resource, _SPECS, update, file, f"{field}[{index}]")


def _parse_entry(entry: Any, file: str, where: str) -> Any:
    if not isinstance(entry, dict):
        raise RenderError(file, f"expected a mapping with name and newName, newTag or digest, found "
                                f"{describe(entry)}", where)
    unknown = sorted(set(entry) - set(_ENTRY_FIELDS))
    if unknown:
        raise RenderError(file, f"unknown field {unknown[0]!r}: an images entry has {', '.join(_ENTRY_FIELDS)}",
                          f"{where}.{unknown[0]}")
    values = {}
    for name in _ENTRY_FIELDS:
        value = entry.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            hint = f' (write newTag: "{value}")' if name == "newTag" and isinstance(value, (int, float)) else ""
            raise RenderError(file, f"expected a string, found {describe(value)}: quote it{hint}",
                              f"{where}.{name}")
        values[name] = value
    try:
        pattern = re.compile("^" + values["name"] + r"(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?\Z")
    except re.error as err:
        raise RenderError(file, f"image name {values['name']!r} is not a valid image name pattern ({err})",
                          f"{where}.name") from err

    def update(current: Any) -> Any:
        if not isinstance(current, str) or not pattern.match(current):
            return current
        return _retag(current, values)

    return update


def _retag(image: str, entry: dict[str, str]) -> str:
    name, tag, digest = split_image(image)
    if entry["newName"]:
        name = entry["newName"]
    if entry["newTag"] and entry["digest"]:
        tag, digest = entry["newTag"], entry["digest"]
    elif entry["newTag"]:
        tag, digest = entry["newTag"], ""
    elif entry["digest"]:
        tag, digest = "", entry["digest"]
    elif entry["tagSuffix"]:
        tag, digest = tag + entry["tagSuffix"], ""
    if tag:
        name += ":" + tag
    if digest:
        name += "@" + digest
    return name


def split_image(image: str) -> tuple[str, str, str]:
    """`registry:5000/repo/name:tag@sha256:abc` -> (`registry:5000/repo/name`, `tag`, `sha256:abc`).

    A `:` before the first `/` is a registry port, not a tag (kustomize's rule)."""
    slash = image.find("/")
    start = slash if slash > 0 else 0
    rest = image[start:]
    at, colon = rest.find("@"), rest.find(":")
    if at < 0 and colon < 0:
        return image, "", ""
    if at >= 0 and (colon < 0 or at < colon):
        return image[:start + at], "", image[start + at + 1:]
    if at >= 0:
        return image[:start + colon], image[start + colon + 1:start + at], image[start + at + 1:]
    return image[:start + colon], image[start + colon + 1:], ""


def _legacy_walk(node: Any, update: Any) -> None:
    """Every `image` of the elements of lists named containers or initContainers, anywhere under `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            _legacy_walk(value, update)
            if key in ("containers", "initContainers") and isinstance(value, list):
                for container in value:
                    if isinstance(container, dict) and "image" in container:
                        container["image"] = update(container["image"])
    elif isinstance(node, list):
        for element in node:
            _legacy_walk(element, update)

"""kustomize's built-in transformers, one module each, applied by `hub.render.build` in kustomize's order:
patchesStrategicMerge, patches, namespace, namePrefix/nameSuffix, labels, annotations, patchesJson6902,
replicas, images, replacements. Each mutates a list of `Resource` and raises `RenderError` on bad input."""

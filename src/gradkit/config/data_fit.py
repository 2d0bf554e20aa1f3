"""Which augmentations fit which data, decided from the dataset registry before any data loads.

Image augmentations (a Transform with ``images_only``) need batches (N, C, H, W). The default
augmentation follows the data: the main job's RandomAffine for image datasets, none for
vectors (spiral) and sequences (mnist1d), none for npz (its shape is only known from its
file; ``gradkit.experiment`` checks an explicit augmentation against it once loaded). An
explicit image augmentation on non-image data is refused with the fix:

    augmentation[0]: RandomAffine needs images (N, C, H, W) but spiral gives vectors (2,);
    remove it with --augment none (or augmentation: [] in the config)
"""


def sample_shape(dataset):
    """One sample's shape for a registered dataset, from the registry (no data is loaded):
    a tuple of ints, ("C", "H", "W") for images of any size, or None when it depends on the
    files (npz)."""
    from gradkit.data.datasets import REGISTRY

    if dataset not in REGISTRY:
        return None
    parts = REGISTRY[dataset].shape.split("×")
    if all(p.strip().isdigit() for p in parts):
        return tuple(int(p) for p in parts)
    return tuple(parts) if len(parts) == 3 else None


def default_augmentation(dataset):
    """The main job's RandomAffine for image datasets; none for vectors, sequences and
    datasets whose sample shape is only known from their files."""
    shape = sample_shape(dataset)
    if shape is None or len(shape) != 3:
        return []
    return [{"name": "RandomAffine",
             "params": {"degrees": 10, "translate": [0.1, 0.1], "scale": [0.9, 1.1]}}]


def augmentation_misfit(aug_names, dataset, shape):
    """The error line for the first image-only augmentation when samples of ``shape`` are
    not images, or None."""
    from gradkit.data import transforms

    if shape is None or len(shape) == 3:
        return None
    for i, name in enumerate(aug_names):
        if getattr(transforms, name).images_only:
            kind = "vectors" if len(shape) == 1 else f"{len(shape)}-d samples"
            return (f"augmentation[{i}]: {name} needs images (N, C, H, W) but {dataset} gives "
                    f"{kind} {tuple(shape)}; remove it with --augment none (or "
                    "augmentation: [] in the config)")
    return None

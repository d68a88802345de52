"""The supernet's accuracy on held-out images at the end of a search: evidence of how well the
shared weights were trained when the cell was chosen (result.json ``evidence``).

Held-out images: the valid half of the NAS-Bench-201 split file (for CIFAR-10; other data sets:
the whole training set) less every image of the weight steps, and of those the *last*
``HELDOUT_IMAGES`` of the fixed permutation that :func:`fixed_subset` takes its *first* images
from, so that at a reduced profile they are also not the images of DARTS' architecture steps
(at the paper's settings DARTS' architecture steps see the whole valid half). Neither augmented
nor shuffled; every method and seed of a profile is scored on the same images.

The forward is the one the weight steps train: IS-DARTS' remaining ops mixed uniformly (after
the last shrink step: the found cell on the shared weights), a method's own mixture otherwise
(DARTS: the softmax weights; sampling methods: one draw per batch).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from isdarts.config import seeds
from isdarts.data import Dataset, load_split
from isdarts.data.loader import BatchLoader
from isdarts.errors import IsdartsError
from isdarts.search.methods.base import loader_kw
from isdarts.search.step import Arch

HELDOUT_IMAGES = 2000


def heldout_index(ds: Dataset, data_root, used: np.ndarray | None, n: int = HELDOUT_IMAGES):
    """Indices into ``ds.train_images`` of the held-out images (module docstring), ascending."""
    try:
        pool = load_split(ds.name, data_root)[1]
    except IsdartsError:  # no split file for this data set: the whole training set
        pool = np.arange(len(ds.train_labels))
    if used is not None:
        pool = np.setdiff1d(pool, used)
    if len(pool) == 0:
        return pool
    order = np.random.default_rng(seeds.SUBSET_SEED).permutation(len(pool))
    return np.sort(pool[order[-min(n, len(pool)) :]])


def heldout_loader(ds: Dataset, idx: np.ndarray, prof, device) -> BatchLoader:
    """The search's own loader settings (:func:`loader_kw`), neither augmented nor shuffled."""
    kw = {**loader_kw(prof, ds, 0, device), "augment": False, "shuffle": False}
    return BatchLoader(ds.train_images[idx], ds.train_labels[idx], prof.batch_size, **kw)


@torch.no_grad()
def heldout_accuracy(net: nn.Module, loader: BatchLoader, mask, arch: Arch | None) -> float | None:
    """Top-1 accuracy in % of the supernet's training forward on ``loader`` (None: no images)."""
    if len(loader.images) == 0:
        return None
    correct = seen = 0
    for x, y in loader.batches(0):
        if arch is None:
            logits = net(x, mask, None)
        else:
            logits = arch.mixture(mask, grad=False).forward(net, x)
        correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
    return 100.0 * correct / seen

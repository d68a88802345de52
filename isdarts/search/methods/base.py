"""The method plug-in's protocol, IS-DARTS and the DARTS methods.

A method says which data its epochs see, how many epochs it runs and after which of them a
shrink step follows, the weight decay of the supernet's SGD, and whether it keeps
architecture parameters (and their optimiser). The loop does everything else the same way for
every method.

- ``isdarts``: single-level SGD on (a fixed subset of) the whole training set, every remaining
  op mixed with weight 1/K; shrink steps after epochs ``range(E - S*I, E, I)``.
- ``darts`` on NAS-Bench-201: first-order DARTS as the NAS-Bench-201 authors ran it (spec
  section 8), whose rows their table prints: weights on the train half of the standard 25k/25k
  split file, alpha (Adam) on the valid half after each weight step; the cell is read from
  alpha, no shrink step.
- ``darts2`` on NAS-Bench-201: second-order DARTS, the same settings with the unrolled
  architecture gradient (finite-difference Hessian-vector product), alpha's step first.
- ``darts`` in the DARTS space: the original DARTS search (Liu et al., ICLR 2019), whose rows
  the DARTS-space tables print: the architecture step before the weight step, SGD without
  Nesterov momentum, the first and the last 25,000 training images as the two halves, a batch
  norm after each pooling candidate (the profile's ``darts:`` block, ``OriginalDartsSettings``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from isdarts.config import seeds
from isdarts.data import Dataset, load_split
from isdarts.data.loader import BatchLoader, fixed_subset
from isdarts.errors import IsdartsError
from isdarts.run.engine import cosine_lr
from isdarts.search.step import Arch, ArchState, UnrolledArchState
from isdarts.spaces.importance import shrink_points


@dataclass(frozen=True)
class Loaders:
    train: BatchLoader
    valid: BatchLoader | None = None  # the architecture steps' data
    # indices (into the data set's training images) of the weight steps' images: the held-out
    # evaluation of the supernet (isdarts.search.heldout) leaves them out
    train_index: np.ndarray | None = None
    # the batches scoring the final candidates where they are not the valid ones (SETN)
    select: BatchLoader | None = None

    def valid_batches(self, epoch: int) -> Iterator | None:
        """Valid batches for one epoch's architecture steps; a new pass (its own draws) starts
        whenever one is exhausted."""
        if self.valid is None:
            return None
        return _passes(self.valid, epoch)

    def select_batches(self, epoch: int) -> Iterator | None:
        """The batches of :attr:`select` in passes like :meth:`valid_batches` (None: none)."""
        if self.select is None:
            return None
        return _passes(self.select, epoch)


class Method(Protocol):
    """What the search loop asks of a method (``prof``: the search profile)."""

    name: str

    def loaders(self, prof: Any, ds: Dataset, data_root: Any, seed: int, device) -> Loaders:
        """The batches of the weight steps, and of the architecture steps if any."""

    def schedule(self, prof: Any) -> tuple[int, list[int]]:
        """Epochs, and the 1-based epochs a shrink step follows."""

    def weight_decay(self, prof: Any) -> float:
        """The weight decay of the supernet's SGD."""

    def learning_rate(self, prof: Any, epoch: int, epochs: int) -> float:
        """The supernet's SGD learning rate in epoch ``epoch`` (0-based) of ``epochs``."""

    def nesterov(self, prof: Any) -> bool:
        """Whether the supernet's SGD uses Nesterov momentum."""

    def grad_clip(self, prof: Any) -> float | None:
        """The weight step's gradient-norm clip (None: none)."""

    def supernet_options(self, prof: Any) -> dict[str, Any]:
        """Keyword options of the space's supernet (e.g. ``pool_bn``)."""

    def arch(self, prof: Any, shape: tuple[int, ...], device) -> Arch | None:
        """The architecture state: weights of ``shape`` and their optimiser, or a path
        sampler (None: the method has none), drawn right after the supernet's weights."""


def _passes(loader: BatchLoader, epoch: int) -> Iterator:
    k = 0
    while True:
        yield from loader.batches(seeds.valid_epoch(epoch, k))
        k += 1


def check_subset(prof, available: int, what: str) -> None:
    """A ``train_subset`` above the images there are is an error, not all of them."""
    if prof.train_subset is not None and prof.train_subset > available:
        raise IsdartsError(
            f"profile {prof.name}: train_subset {prof.train_subset} exceeds the {available:,} "
            f"training images of {what}"
        )


def loader_kw(prof, ds: Dataset, seed: int, device: torch.device) -> dict:
    return dict(
        mean=ds.mean,
        std=ds.std,
        device=device,
        augment=True,
        shuffle=prof.order == "shuffle",
        seed=seed,
        channels_last=prof.channels_last,
    )


class IsDarts:
    name = "isdarts"

    def loaders(self, prof, ds: Dataset, data_root, seed: int, device) -> Loaders:
        check_subset(prof, len(ds.train_labels), ds.name)
        idx = fixed_subset(len(ds.train_labels), prof.train_subset)
        kw = loader_kw(prof, ds, seed, device)
        return Loaders(
            BatchLoader(ds.train_images[idx], ds.train_labels[idx], prof.batch_size, **kw),
            train_index=idx,
        )

    def schedule(self, prof) -> tuple[int, list[int]]:
        return prof.epochs, shrink_points(prof.epochs, prof.shrink_steps, prof.shrink_interval)

    def weight_decay(self, prof) -> float:
        return prof.weight_decay

    def learning_rate(self, prof, epoch: int, epochs: int) -> float:
        """The profile's cosine, from ``lr`` to ``lr_min`` over the epochs."""
        return cosine_lr(epoch, epochs, prof.lr, prof.lr_min)

    def nesterov(self, prof) -> bool:
        return prof.nesterov

    def grad_clip(self, prof) -> float | None:
        return prof.grad_clip

    def supernet_options(self, prof) -> dict[str, Any]:
        return {}

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch | None:
        return None


class Darts:
    """First-order DARTS as the NAS-Bench-201 authors ran it; the base of every method that
    searches on the two halves of the training set with settings of its own (the profile's
    block named ``block``)."""

    name = "darts"
    block = "darts"

    def settings(self, prof) -> Any:
        """The method's block of the profile."""
        return getattr(prof, self.block)

    def halves(self, prof, ds: Dataset, data_root) -> tuple[np.ndarray, np.ndarray]:
        """The training images of the weight steps and of the architecture steps."""
        return load_split(ds.name, data_root)

    def loaders(self, prof, ds: Dataset, data_root, seed: int, device) -> Loaders:
        tr, va = self.halves(prof, ds, data_root)
        check_subset(prof, len(tr) + len(va), f"{ds.name} (its two halves)")
        half = None if prof.train_subset is None else prof.train_subset // 2
        tr, va = tr[fixed_subset(len(tr), half)], va[fixed_subset(len(va), half)]
        kw = loader_kw(prof, ds, seed, device)
        train = BatchLoader(ds.train_images[tr], ds.train_labels[tr], prof.batch_size, **kw)
        kw["seed"] = seeds.valid_stream(seed)
        valid = self.valid_loader(prof, ds.train_images[va], ds.train_labels[va], kw)
        return Loaders(train, valid, train_index=tr)

    def valid_loader(self, prof, images, labels, kw: dict) -> BatchLoader:
        """The loader of the valid half (DARTS: batches like the weight steps', in passes
        without replacement or, ``valid_sampling: replacement``, drawn with replacement)."""
        replacement = getattr(self.settings(prof), "valid_sampling", "passes") == "replacement"
        return BatchLoader(images, labels, prof.batch_size, **kw, replacement=replacement)

    def schedule(self, prof) -> tuple[int, list[int]]:
        return self.settings(prof).epochs, []

    def weight_decay(self, prof) -> float:
        return self.settings(prof).weight_decay

    def learning_rate(self, prof, epoch: int, epochs: int) -> float:
        """The profile's cosine, from ``lr`` to ``lr_min`` over the method's epochs."""
        return cosine_lr(epoch, epochs, prof.lr, prof.lr_min)

    def nesterov(self, prof) -> bool:
        return getattr(self.settings(prof), "nesterov", prof.nesterov)

    def grad_clip(self, prof) -> float | None:
        """The profile's clip unless the block has its own (SETN's: None, no clip)."""
        return getattr(self.settings(prof), "grad_clip", prof.grad_clip)

    def supernet_options(self, prof) -> dict[str, Any]:
        return {}

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch | None:
        """alpha ~ 1e-3 N(0, 1), drawn right after the supernet's weights, and its Adam."""
        alpha = nn.Parameter(1e-3 * torch.randn(*shape, device=device))
        return ArchState(alpha, self.adam(prof, [alpha]), **self.arch_options(prof))

    def arch_options(self, prof) -> dict[str, Any]:
        """The block's step order and warm-up as :class:`ArchState` options."""
        s = self.settings(prof)
        return {
            "first": self.arch_step_first(prof),
            "warmup_epochs": getattr(s, "warmup_epochs", 0),
            "clip_alpha": getattr(s, "clip_alpha", False),
        }

    def adam(self, prof, params: list, weight_decay: float | None = None) -> torch.optim.Adam:
        """The architecture parameters' Adam (weight decay: the block's unless given)."""
        s = self.settings(prof)
        decay = s.arch_weight_decay if weight_decay is None else weight_decay
        # capturable on CUDA: the step count and bias correction stay on the device, so that
        # the step can be captured as a CUDA graph (isdarts.search.graphed)
        return torch.optim.Adam(
            params,
            lr=s.arch_lr,
            betas=s.arch_betas,
            weight_decay=decay,
            capturable=params[0].is_cuda,
        )

    def arch_step_first(self, prof) -> bool:
        """Whether alpha's step comes before the weight step (here: after it)."""
        return getattr(self.settings(prof), "arch_step_first", False)


class Darts2(Darts):
    """Second-order DARTS on NAS-Bench-201 (the NAS-Bench-201 authors' DARTS-V2): the same
    settings as ``darts`` (the profile's ``darts:`` block, NAS-Bench-201 paper appendix), the
    unrolled architecture gradient (:class:`UnrolledArchState`), taken before each weight step
    as in the original DARTS."""

    name = "darts2"

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch | None:
        state = super().arch(prof, shape, device)
        return UnrolledArchState(
            state.alpha, state.optimizer, first=True, clip_alpha=state.clip_alpha
        )


class OriginalDarts(Darts):
    """The original first-order DARTS search (the DARTS space's ``darts``); its settings are
    the profile's ``darts:`` block (:class:`isdarts.config.profiles.OriginalDartsSettings`)."""

    def halves(self, prof, ds: Dataset, data_root) -> tuple[np.ndarray, np.ndarray]:
        if prof.darts.split == "file":
            return super().halves(prof, ds, data_root)
        half = len(ds.train_labels) // 2  # the first and the last 25,000 images
        return np.arange(half), np.arange(half, len(ds.train_labels))

    def supernet_options(self, prof) -> dict[str, Any]:
        return {"pool_bn": prof.darts.pool_bn}

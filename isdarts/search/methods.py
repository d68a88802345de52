"""Search methods as plug-ins of the one search loop (:mod:`isdarts.search.loop`).

A method says which data its epochs see, how many epochs it runs and after which of them a
shrink step follows, the weight decay of the supernet's SGD, and whether it keeps
architecture parameters (and their optimiser). The loop does everything else the same way for
every method.

- ``isdarts``: single-level SGD on (a fixed subset of) the whole training set, every remaining
  op mixed with weight 1/K; shrink steps after epochs ``range(E - S*I, E, I)``.
- ``darts``: first-order DARTS (spec section 8): weights on the train half of the standard
  25k/25k split, alpha (Adam) on the valid half; the cell is read from alpha, no shrink step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import nn

from isdarts.config import seeds
from isdarts.data import Dataset, load_split
from isdarts.data.loader import BatchLoader, fixed_subset
from isdarts.errors import IsdartsError
from isdarts.search.step import ArchState
from isdarts.spaces.importance import shrink_points


@dataclass(frozen=True)
class Loaders:
    train: BatchLoader
    valid: BatchLoader | None = None  # the architecture steps' data

    def valid_batches(self, epoch: int) -> Iterator | None:
        """Valid batches for one epoch's architecture steps; a new pass (its own draws) starts
        whenever one is exhausted."""
        if self.valid is None:
            return None
        return _passes(self.valid, epoch)


class Method(Protocol):
    """What the search loop asks of a method (``prof``: the search profile)."""

    name: str

    def loaders(self, prof: Any, ds: Dataset, data_root: Any, seed: int, device) -> Loaders:
        """The batches of the weight steps, and of the architecture steps if any."""

    def schedule(self, prof: Any) -> tuple[int, list[int]]:
        """Epochs, and the 1-based epochs a shrink step follows."""

    def weight_decay(self, prof: Any) -> float:
        """The weight decay of the supernet's SGD."""

    def arch(self, prof: Any, shape: tuple[int, ...], device) -> ArchState | None:
        """Architecture weights of ``shape`` and their optimiser (None: the method has none),
        drawn right after the supernet's weights."""


def _passes(loader: BatchLoader, epoch: int) -> Iterator:
    k = 0
    while True:
        yield from loader.batches(seeds.valid_epoch(epoch, k))
        k += 1


def _loader_kw(prof, ds: Dataset, seed: int, device: torch.device) -> dict:
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
        idx = fixed_subset(len(ds.train_labels), prof.train_subset)
        kw = _loader_kw(prof, ds, seed, device)
        return Loaders(
            BatchLoader(ds.train_images[idx], ds.train_labels[idx], prof.batch_size, **kw)
        )

    def schedule(self, prof) -> tuple[int, list[int]]:
        return prof.epochs, shrink_points(prof.epochs, prof.shrink_steps, prof.shrink_interval)

    def weight_decay(self, prof) -> float:
        return prof.weight_decay

    def arch(self, prof, shape: tuple[int, ...], device) -> ArchState | None:
        return None


class Darts:
    name = "darts"

    def loaders(self, prof, ds: Dataset, data_root, seed: int, device) -> Loaders:
        tr, va = load_split(ds.name, data_root)
        half = None if prof.train_subset is None else prof.train_subset // 2
        tr, va = tr[fixed_subset(len(tr), half)], va[fixed_subset(len(va), half)]
        kw = _loader_kw(prof, ds, seed, device)
        train = BatchLoader(ds.train_images[tr], ds.train_labels[tr], prof.batch_size, **kw)
        kw["seed"] = seeds.valid_stream(seed)
        return Loaders(
            train, BatchLoader(ds.train_images[va], ds.train_labels[va], prof.batch_size, **kw)
        )

    def schedule(self, prof) -> tuple[int, list[int]]:
        return prof.darts.epochs, []

    def weight_decay(self, prof) -> float:
        return prof.darts.weight_decay

    def arch(self, prof, shape: tuple[int, ...], device) -> ArchState | None:
        """alpha ~ 1e-3 N(0, 1), drawn right after the supernet's weights, and its Adam."""
        alpha = nn.Parameter(1e-3 * torch.randn(*shape, device=device))
        opt = torch.optim.Adam(
            [alpha],
            lr=prof.darts.arch_lr,
            betas=prof.darts.arch_betas,
            weight_decay=prof.darts.arch_weight_decay,
        )
        return ArchState(alpha, opt)


METHODS: dict[str, Method] = {m.name: m for m in (IsDarts(), Darts())}


def get_method(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        raise IsdartsError(f"--method {name}: expected one of {', '.join(METHODS)}") from None

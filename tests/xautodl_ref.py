"""The NAS-Bench-201 authors' released search networks (the ``xautodl`` package, version 1.0.0,
MIT licence) side by side with ours, for the reference tests (``tests/test_ref_*.py``).

``pair(kind)`` builds our :class:`Supernet` and xautodl's ``TinyNetwork<kind>`` with the same
size, in float64, and copies our weights and batch-norm buffers into theirs: both networks
register the same modules in the same order (stem, cells with the six edges in the order
``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2`` and the five ops in the space's order, reduction blocks,
final batch norm, linear layer), so the copy zips the two lists and checks every shape. The
cells' batch norm keeps no running statistics on either side (the released scripts' ``BN=0``).
xautodl is a test dependency only, installed without its dependencies (its metadata pins an old
numpy); the tests that use it skip where it is missing.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from torch import nn

from isdarts.spaces.nb201.names import OPS
from isdarts.spaces.nb201.supernet import Supernet, SupernetConfig

# xautodl module and class of each released search network
KINDS = {
    "darts": ("search_model_darts", "TinyNetworkDarts"),
    "gdas": ("search_model_gdas", "TinyNetworkGDAS"),
    "setn": ("search_model_setn", "TinyNetworkSETN"),
    "enas": ("search_model_enas", "TinyNetworkENAS"),
    "random": ("search_model_random", "TinyNetworkRANDOM"),
}


def xautodl_class(kind: str) -> type:
    pytest.importorskip("xautodl")
    module, cls = KINDS[kind]
    return getattr(importlib.import_module(f"xautodl.models.cell_searchs.{module}"), cls)


def their_net(kind: str, C: int, N: int, num_classes: int = 10) -> nn.Module:
    return xautodl_class(kind)(C, N, 4, num_classes, list(OPS), False, False)


def weights(net: nn.Module) -> list[torch.Tensor]:
    """The network's weights in registration order, leaving out the architecture parameters
    and the released cells' convolution biases (see :func:`copy_into`)."""
    return [
        p for n, p in net.named_parameters() if "arch_parameters" not in n and n not in _biases(net)
    ]


def _biases(net: nn.Module) -> set[str]:
    """The released cells give each convolution a bias (``bias=not affine``); the batch norm
    after it, on batch statistics, subtracts it exactly. They are zeroed, not compared."""
    return {n for n, _ in net.named_parameters() if ".op.1.bias" in n and ".edges." in n}


def copy_into(ours: nn.Module, theirs: nn.Module) -> None:
    """Copy our weights and batch-norm buffers into ``theirs`` (same order, same shapes)."""
    pairs = [
        (weights(ours), weights(theirs)),
        (list(ours.buffers()), list(theirs.buffers())),
    ]
    with torch.no_grad():
        for n, p in theirs.named_parameters():
            if n in _biases(theirs):
                p.zero_()
        for src, dst in pairs:
            assert len(src) == len(dst), (len(src), len(dst))
            for a, b in zip(src, dst, strict=True):
                assert a.shape == b.shape, (a.shape, b.shape)
                b.copy_(a)


def pair(kind: str, C: int = 4, N: int = 1, seed: int = 0) -> tuple[Supernet, nn.Module]:
    """Our supernet and the released ``kind`` network with the same weights, float64."""
    torch.manual_seed(seed)
    ours = Supernet(SupernetConfig(channels=C, cells_per_stage=N)).double()
    theirs = their_net(kind, C, N).double()
    copy_into(ours, theirs)
    return ours, theirs


def cifar_batch(n: int = 16, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` real CIFAR-10 training images (normalised, float64) and labels; skips without
    the prepared data set."""
    from isdarts.data import load_dataset
    from isdarts.errors import IsdartsError

    try:
        ds = load_dataset("cifar10", "data")
    except IsdartsError as e:  # pragma: no cover - the suite prepares the data first
        pytest.skip(f"CIFAR-10 not prepared: {e}")
    x = torch.from_numpy(ds.train_images[offset : offset + n].astype(np.float64) / 255.0)
    mean = torch.tensor(ds.mean, dtype=torch.float64)
    std = torch.tensor(ds.std, dtype=torch.float64)
    x = ((x - mean) / std).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(ds.train_labels[offset : offset + n].astype(np.int64))
    return x, y


def max_diff(a, b) -> float:
    """The largest absolute difference between two tensors or two lists of tensors."""
    if isinstance(a, torch.Tensor):
        return float((a - b).detach().abs().max())
    return max(max_diff(x, y) for x, y in zip(a, b, strict=True))

"""In-memory batching with augmentation on whole batches (no per-image Python, no DataLoader).

The data set lives on the device as one uint8 NHWC tensor. Each epoch's order and augmentation
draws come from a generator seeded by ``(seed, epoch)``, so a resumed run sees the same batches.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from isdarts.config import seeds


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seeds.batches(seed, epoch))


def fixed_subset(n_total: int, n: int | None) -> np.ndarray:
    """Indices of the first ``n`` of a fixed (seed-independent) permutation, ascending; all
    ``n_total`` when ``n`` is None or not smaller. Every seed and method sees the same images."""
    if n is None or n >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seeds.SUBSET_SEED).permutation(n_total)[:n])


def random_crop_flip(
    x: torch.Tensor, pad: int, gen: torch.Generator, flip: bool = True
) -> torch.Tensor:
    """Zero-pad by ``pad``, crop back at a random offset per image, flip half the images.

    ``x`` is float NCHW in [0, 1] (zero padding in raw pixel space, like torchvision's
    ``RandomCrop(padding=pad)`` applied before ``ToTensor``).
    """
    n, _, h, w = x.shape
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    flips = torch.rand(n, generator=gen) < 0.5 if flip else torch.zeros(n, dtype=torch.bool)
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    rows = (dy[:, None] + torch.arange(h)).to(x.device)  # [n, h]
    cols = (dx[:, None] + torch.arange(w)).to(x.device)  # [n, w]
    cols = torch.where(flips.to(x.device)[:, None], cols.flip(1), cols)
    b = torch.arange(n, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[b, rows[:, :, None], cols[:, None, :]]  # [n, h, w, c]
    return out.permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    """Zero a ``size`` x ``size`` square (clipped at the border) at a random centre per image.

    As in the DARTS evaluation pipeline, this is applied to the normalised images.
    """
    n, _, h, w = x.shape
    cy = torch.randint(0, h, (n, 1, 1), generator=gen).to(x.device)
    cx = torch.randint(0, w, (n, 1, 1), generator=gen).to(x.device)
    ys = torch.arange(h, device=x.device)[None, :, None]
    xs = torch.arange(w, device=x.device)[None, None, :]
    half = size // 2
    inside = (ys >= cy - half) & (ys < cy + half) & (xs >= cx - half) & (xs < cx + half)
    return x * (~inside)[:, None].to(x.dtype)


class BatchLoader:
    """Batches of (normalised float images NCHW, int64 labels) from one in-memory uint8 tensor."""

    def __init__(
        self,
        images: np.ndarray | torch.Tensor,
        labels: np.ndarray | torch.Tensor,
        batch_size: int,
        *,
        mean: tuple[float, float, float],
        std: tuple[float, float, float],
        device: str | torch.device = "cpu",
        augment: bool = True,
        cutout: int = 0,
        shuffle: bool = True,
        seed: int = 0,
        channels_last: bool = False,
        drop_last: bool = False,
        replacement: bool = False,
    ):
        self.device = torch.device(device)
        self.images = torch.as_tensor(images).to(self.device)  # uint8 [N, H, W, C]
        self.labels = torch.as_tensor(labels).long().to(self.device)
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        self.batch_size = batch_size
        self.mean = torch.tensor(mean, device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(std, device=self.device).view(1, 3, 1, 1)
        self.augment, self.cutout, self.shuffle = augment, cutout, shuffle
        self.seed, self.channels_last, self.drop_last = seed, channels_last, drop_last
        # each batch's images drawn independently with replacement (as the NAS-Bench-201
        # authors' search loaders draw the valid images paired with each training batch)
        self.replacement = replacement

    def __len__(self) -> int:
        n = len(self.images)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        gen = epoch_generator(self.seed, epoch)
        n = len(self.images)
        order = torch.randperm(n, generator=gen) if self.shuffle else torch.arange(n)
        for i in range(len(self)):
            if self.replacement:
                idx = torch.randint(n, (self.batch_size,), generator=gen).to(self.device)
            else:
                idx = order[i * self.batch_size : (i + 1) * self.batch_size].to(self.device)
            x = self.images[idx].permute(0, 3, 1, 2).float().div_(255)
            if self.augment:
                x = random_crop_flip(x, 4, gen)
            x = (x - self.mean) / self.std
            if self.cutout:
                x = cutout(x, self.cutout, gen)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            else:
                x = x.contiguous()
            yield x, self.labels[idx]

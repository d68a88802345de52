"""Building blocks both search spaces use: batch norm of either kind, ReLU-Conv-BN, and the
all-zero ``none`` op.

Batch norm inside searched cells has no affine parameters and always uses batch statistics
(``track_running_stats=False``, as in DARTS and NAS-Bench-201), in train and eval mode alike; stems,
reduction blocks, classifiers and the evaluation network use ordinary batch norm.
"""

from __future__ import annotations

import torch
from torch import nn


def bn(C: int, affine: bool) -> nn.BatchNorm2d:
    """Batch norm: ordinary when ``affine``, else the search-cell kind (no affine, batch stats)."""
    if affine:
        return nn.BatchNorm2d(C)
    return nn.BatchNorm2d(C, affine=False, track_running_stats=False)


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution without bias, batch norm."""

    def __init__(
        self,
        C_in: int,
        C_out: int,
        kernel: int,
        stride: int,
        padding: int,
        *,
        affine: bool,
        dilation: int = 1,
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel, stride, padding, dilation=dilation, bias=False),
            bn(C_out, affine),
        )

    @property
    def conv(self) -> nn.Conv2d:
        return self[1]


class Zero(nn.Module):
    """The ``none`` op: an all-zero output (spatially reduced when ``stride`` > 1)."""

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.C_out, self.stride = C_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if x.shape[1] == self.C_out:
            return x.mul(0.0)
        return x.new_zeros(x.shape[0], self.C_out, *x.shape[2:])


class Classifier(nn.Module):
    """The head of both spaces' networks after the last cell: batch norm (running statistics,
    affine), ReLU, global average pooling, linear layer."""

    def __init__(self, C: int, num_classes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(C)
        self.fc = nn.Linear(C, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(x))
        return self.fc(x.mean(dim=(2, 3)))


def stem(C: int) -> nn.Sequential:
    """3x3 convolution from RGB to ``C`` channels, then batch norm."""
    return nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))

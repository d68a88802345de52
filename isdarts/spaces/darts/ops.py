"""The eight candidate operations of the DARTS (NASNet-style) search space (Liu et al., ICLR 2019).

``DARTS_OPS`` maps an op name to a factory ``(C, stride, affine) -> nn.Module``; every op maps
``C`` channels to ``C`` channels and halves the spatial size when ``stride`` is 2. Search cells
use ``affine=False``, which also switches batch norm to batch statistics in train and eval mode
(``track_running_stats=False``, as in DARTS and NAS-Bench-201); the evaluation network uses ordinary batch norm.

This registry is separate from :data:`isdarts.spaces.nb201.ops.OPS` (NAS-Bench-201): three names (``none``,
``skip_connect``, ``avg_pool_3x3``) are shared but the DARTS-space versions differ (stride 2,
factorized reduce).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from isdarts.spaces.blocks import Zero, bn
from isdarts.spaces.darts.names import PRIMITIVES

DartsOpFactory = Callable[[int, int, bool], nn.Module]


class DepthwiseConv(nn.Conv2d):
    """Depthwise convolution. On CPU a dilation-2 kernel with even padding is computed as an
    ordinary (undilated) depthwise convolution of the polyphase components of the input
    (``pixel_unshuffle``), which is the same sum of the same products and 2-3x faster
    backward than PyTorch's CPU dilated kernels."""

    def __init__(self, C: int, kernel: int, stride: int, padding: int, dilation: int) -> None:
        super().__init__(C, C, kernel, stride, padding, dilation=dilation, groups=C, bias=False)
        self.polyphase = dilation == 2 and padding % 2 == 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if not (self.polyphase and x.device.type == "cpu" and h % 2 == 0 and w % 2 == 0):
            return super().forward(x)
        pad = self.padding[0] // 2
        if self.stride[0] == 2:  # only the even phase is ever read
            return F.conv2d(x[:, :, ::2, ::2], self.weight, padding=pad, groups=self.groups)
        y = F.conv2d(
            F.pixel_unshuffle(x, 2),
            self.weight.repeat_interleave(4, 0),
            padding=pad,
            groups=4 * self.groups,
        )
        return F.pixel_shuffle(y, 2)


class DilConv(nn.Sequential):
    """ReLU, depthwise (dilated) convolution, pointwise convolution, batch norm."""

    def __init__(
        self,
        C_in: int,
        C_out: int,
        kernel: int,
        stride: int,
        padding: int,
        dilation: int,
        affine: bool = True,
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            DepthwiseConv(C_in, kernel, stride, padding, dilation),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            bn(C_out, affine),
        )


class SepConv(nn.Sequential):
    """Two stacked :class:`DilConv` blocks without dilation; only the first one has the stride."""

    def __init__(
        self, C_in: int, C_out: int, kernel: int, stride: int, padding: int, affine: bool = True
    ) -> None:
        super().__init__(
            DilConv(C_in, C_in, kernel, stride, padding, 1, affine),
            DilConv(C_in, C_out, kernel, 1, padding, 1, affine),
        )


class FactorizedReduce(nn.Module):
    """Stride-2 reduction: ReLU, two 1x1 stride-2 convolutions on the input and on the input
    shifted by one pixel, concatenated along channels, batch norm. Odd sizes are padded so the
    two halves always have the same spatial size."""

    def __init__(self, C_in: int, C_out: int, affine: bool = True) -> None:
        super().__init__()
        half = C_out // 2
        self.conv_1 = nn.Conv2d(C_in, half, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out - half, 1, stride=2, bias=False)
        self.bn = bn(C_out, affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


DARTS_OPS: dict[str, DartsOpFactory] = {
    "none": lambda C, stride, affine: Zero(C, C, stride),
    "skip_connect": lambda C, stride, affine: (
        nn.Identity() if stride == 1 else FactorizedReduce(C, C, affine)
    ),
    "sep_conv_3x3": lambda C, stride, affine: SepConv(C, C, 3, stride, 1, affine),
    "sep_conv_5x5": lambda C, stride, affine: SepConv(C, C, 5, stride, 2, affine),
    "dil_conv_3x3": lambda C, stride, affine: DilConv(C, C, 3, stride, 2, 2, affine),
    "dil_conv_5x5": lambda C, stride, affine: DilConv(C, C, 5, stride, 4, 2, affine),
    "avg_pool_3x3": lambda C, stride, affine: nn.AvgPool2d(
        3, stride=stride, padding=1, count_include_pad=False
    ),
    "max_pool_3x3": lambda C, stride, affine: nn.MaxPool2d(3, stride=stride, padding=1),
}
assert tuple(DARTS_OPS) == PRIMITIVES


def make_op(name: str, C: int, stride: int, affine: bool = True) -> nn.Module:
    """Build DARTS-space op ``name`` (``ValueError`` for an unknown name)."""
    try:
        factory = DARTS_OPS[name]
    except KeyError:
        raise ValueError(
            f"unknown DARTS-space op {name!r} (expected one of {', '.join(PRIMITIVES)})"
        ) from None
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, got {stride}")
    return factory(C, stride, affine)

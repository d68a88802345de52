"""Candidate operations and fixed building blocks of the search spaces.

``OPS`` maps an op name to a factory ``(C_in, C_out, stride) -> nn.Module``. A space module
(``isdarts.spaces.nb201.supernet``; later ``isdarts.spaces.darts``) registers its ops with
:func:`register_op` and lists the names it uses, in its own order.

Batch norm inside searched cells uses ``affine=False, track_running_stats=False``: batch
statistics in train and eval mode alike (spec section 2). The stem, the ResNet reduction
blocks and the classifier use ordinary batch norm.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

OpFactory = Callable[[int, int, int], nn.Module]
OPS: dict[str, OpFactory] = {}


def register_op(name: str) -> Callable[[OpFactory], OpFactory]:
    """Decorator: register ``factory(C_in, C_out, stride)`` under ``name`` (unique)."""

    def wrap(factory: OpFactory) -> OpFactory:
        if name in OPS:
            raise ValueError(f"op {name!r} registered twice")
        OPS[name] = factory
        return factory

    return wrap


def cell_bn(C: int) -> nn.BatchNorm2d:
    """Batch norm of a searched cell: no affine parameters, always batch statistics."""
    return nn.BatchNorm2d(C, affine=False, track_running_stats=False)


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


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution without bias, batch norm (cell variant unless ``affine``)."""

    def __init__(
        self,
        C_in: int,
        C_out: int,
        kernel: int,
        stride: int,
        padding: int,
        dilation: int = 1,
        affine: bool = False,
    ) -> None:
        bn = nn.BatchNorm2d(C_out) if affine else cell_bn(C_out)
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel, stride, padding, dilation=dilation, bias=False),
            bn,
        )

    @property
    def conv(self) -> nn.Conv2d:
        return self[1]


class AvgPool(nn.Module):
    """3x3 average pooling that ignores padding (``count_include_pad=False``)."""

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        if C_in != C_out:
            raise ValueError("avg_pool_3x3 needs C_in == C_out in the NB201 space")
        self.pool = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


@register_op("none")
def _none(C_in: int, C_out: int, stride: int) -> nn.Module:
    return Zero(C_in, C_out, stride)


@register_op("skip_connect")
def _skip(C_in: int, C_out: int, stride: int) -> nn.Module:
    if stride != 1 or C_in != C_out:
        raise ValueError("skip_connect with a stride or a channel change is a DARTS-space op")
    return nn.Identity()


@register_op("nor_conv_1x1")
def _conv1(C_in: int, C_out: int, stride: int) -> nn.Module:
    return ReLUConvBN(C_in, C_out, 1, stride, 0)


@register_op("nor_conv_3x3")
def _conv3(C_in: int, C_out: int, stride: int) -> nn.Module:
    return ReLUConvBN(C_in, C_out, 3, stride, 1)


@register_op("avg_pool_3x3")
def _avg(C_in: int, C_out: int, stride: int) -> nn.Module:
    return AvgPool(C_in, C_out, stride)


class ResNetBasicBlock(nn.Module):
    """NB201 reduction block between stages: two ReLU-Conv-BN 3x3 (first with stride 2)
    plus a shortcut of 2x2 average pooling and a 1x1 convolution."""

    def __init__(self, C_in: int, C_out: int, stride: int = 2) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(C_in, C_out, 3, stride, 1, affine=True)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1, affine=True)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(C_in, C_out, 1, 1, 0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def stem(C: int) -> nn.Sequential:
    """3x3 convolution from RGB to ``C`` channels, then batch norm."""
    return nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))


class Classifier(nn.Module):
    """Batch norm, ReLU, global average pooling, linear layer."""

    def __init__(self, C: int, num_classes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(C)
        self.fc = nn.Linear(C, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(x))
        return self.fc(x.mean(dim=(2, 3)))

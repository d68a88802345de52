"""The DARTS-space evaluation network (NetworkCIFAR): a genotype's cells trained from scratch.

Stem: 3x3 convolution to ``stem_multiplier * C`` channels and batch norm. Then ``layers``
cells; the cells at depth ``layers // 3`` and ``2 * layers // 3`` are reduction cells (stride
2, channels doubled). Each cell preprocesses its two inputs to ``C`` channels (a factorized
reduce for the first input after a reduction cell, ReLU-1x1 conv-BN otherwise), runs two ops
per intermediate node, sums them, and concatenates the ``concat`` nodes. The auxiliary head
sits after the second reduction cell (2/3 depth) and is used in training only. Drop-path drops
whole op outputs per sample (never an identity ``skip_connect``) with probability
``drop_path_prob``, which the trainer ramps linearly from 0 over the epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from isdarts.spaces.blocks import ReLUConvBN
from isdarts.spaces.darts.names import Genotype
from isdarts.spaces.darts.ops import FactorizedReduce, make_op


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples with probability ``drop_prob`` and rescale the rest by 1/keep."""
    keep = 1.0 - drop_prob
    mask = torch.empty(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


class EvalCell(nn.Module):
    def __init__(
        self, genotype: Genotype, C_pp: int, C_p: int, C: int, reduction: bool, reduction_prev: bool
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (
            FactorizedReduce(C_pp, C)
            if reduction_prev
            else ReLUConvBN(C_pp, C, 1, 1, 0, affine=True)
        )
        self.preprocess1 = ReLUConvBN(C_p, C, 1, 1, 0, affine=True)
        pairs, concat = genotype.cell("reduce" if reduction else "normal")
        self.inputs = [i for _, i in pairs]
        self.concat = list(concat)
        self.multiplier = len(concat)
        self.ops = nn.ModuleList(
            make_op(op, C, 2 if reduction and i < 2 else 1, affine=True) for op, i in pairs
        )
        self.identity = [isinstance(op, nn.Identity) for op in self.ops]

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(len(self.ops) // 2):
            total = None
            for k in (2 * node, 2 * node + 1):
                h = self.ops[k](states[self.inputs[k]])
                if self.training and drop_prob > 0 and not self.identity[k]:
                    h = drop_path(h, drop_prob)
                total = h if total is None else total + h
            states.append(total)
        return torch.cat([states[i] for i in self.concat], dim=1)


class AuxiliaryHead(nn.Module):
    """Auxiliary classifier on 8x8 feature maps (CIFAR at 2/3 depth)."""

    def __init__(self, C: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),  # 8x8 -> 2x2
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


@dataclass(frozen=True)
class EvalNetConfig:
    channels: int = 36
    layers: int = 20
    auxiliary: bool = True
    num_classes: int = 10
    stem_multiplier: int = 3


class NetworkCIFAR(nn.Module):
    """``forward`` returns ``(logits, aux_logits)``; ``aux_logits`` is None outside training
    or without an auxiliary head."""

    def __init__(self, genotype: Genotype, cfg: EvalNetConfig) -> None:
        super().__init__()
        C, layers = cfg.channels, cfg.layers
        self.drop_path_prob = 0.0
        c_curr = cfg.stem_multiplier * C
        self.stem = nn.Sequential(
            nn.Conv2d(3, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr)
        )
        C_pp, C_p, c_curr = c_curr, c_curr, C
        self.reductions = reduction_layers(layers)
        self.aux_index = 2 * layers // 3
        self.cells = nn.ModuleList()
        reduction_prev = False
        C_aux = C_p
        for i in range(layers):
            reduction = i in self.reductions
            if reduction:
                c_curr *= 2
            cell = EvalCell(genotype, C_pp, C_p, c_curr, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            C_pp, C_p = C_p, cell.multiplier * c_curr
            if i == self.aux_index:
                C_aux = C_p
        self.auxiliary = AuxiliaryHead(C_aux, cfg.num_classes) if cfg.auxiliary else None
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_p, cfg.num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        aux = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.aux_index and self.auxiliary is not None and self.training:
                aux = self.auxiliary(s1)
        return self.classifier(self.global_pool(s1).flatten(1)), aux


def reduction_layers(layers: int) -> tuple[int, ...]:
    """Indices of the reduction cells: 1/3 and 2/3 of the depth."""
    return (layers // 3, 2 * layers // 3)


def count_params(net: nn.Module, *, auxiliary: bool = False) -> int:
    """Trainable parameters, without the auxiliary head unless ``auxiliary``."""
    return sum(
        p.numel()
        for name, p in net.named_parameters()
        if auxiliary or not name.startswith("auxiliary.")
    )


def params_m(
    genotype: Genotype, channels: int = 36, layers: int = 20, num_classes: int = 10
) -> float:
    """Parameters in millions, without the auxiliary head (the convention of DARTS tables)."""
    with torch.device("meta"):  # counted, never run: no memory for the weights at any size
        net = NetworkCIFAR(genotype, EvalNetConfig(channels, layers, False, num_classes))
    return count_params(net) / 1e6

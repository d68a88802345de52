"""CUDA graphs for the hot loops: a step captured once on static inputs and replayed per batch.

PyTorch's whole-network capture (``torch.cuda.graph``): the step runs eagerly on a side stream
first (``warmup`` calls: cuDNN picks its kernels, the optimisers create their state), is then
captured with static copies of its inputs, and afterwards each call copies the batch into those
copies and replays the recorded kernels, one launch for the whole step instead of thousands.
A call whose inputs differ in shape (the last, smaller batch of an epoch) runs eagerly; so does
every call where graphs are off (``enabled`` False, or not a CUDA device), which makes the same
object the eager path on the CPU.

What a graphed step must respect: no reads back to the host (``.item()``, ``bool(tensor)``),
no Python branches on tensor values, no new host-to-device copies after the warm-up, and state
it updates must live in tensors allocated before the capture or in the capture itself
(optimiser state, accumulators). Python values the step reads (a learning rate, a mask) are
frozen at the capture: a caller captures again when they change (:class:`GraphedStep` is made
per epoch by the search).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch


def cuda_graphs_available(device: torch.device) -> bool:
    return device.type == "cuda" and torch.cuda.is_available()


class GraphedStep:
    """``step(*inputs)`` (tensors; returns nothing: it updates tensors in place), captured after
    ``warmup`` eager calls on a side stream and replayed from then on."""

    def __init__(
        self, step: Callable[..., None], *, enabled: bool, warmup: int = 1, name: str = "step"
    ) -> None:
        self.step, self.enabled, self.warmup, self.name = step, enabled, warmup, name
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static: list[torch.Tensor] = []
        self.calls = 0
        self.replays = 0

    def _shape_matches(self, inputs: tuple[torch.Tensor, ...]) -> bool:
        return all(s.shape == x.shape for s, x in zip(self.static, inputs, strict=True))

    def __call__(self, *inputs: torch.Tensor) -> None:
        if not self.enabled:
            self.step(*inputs)
            return
        if self.graph is not None:
            if not self._shape_matches(inputs):
                self.step(*inputs)  # e.g. the epoch's last, smaller batch
                return
            for s, x in zip(self.static, inputs, strict=True):
                s.copy_(x)
            self.graph.replay()
            self.replays += 1
            return
        if self.calls < self.warmup:
            self.calls += 1
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self.step(*inputs)
            torch.cuda.current_stream().wait_stream(side)
            return
        if self._capture(inputs):
            self.graph.replay()  # the capture recorded the kernels without running them
            self.replays += 1
        else:
            self.step(*inputs)

    def _capture(self, inputs: tuple[torch.Tensor, ...]) -> bool:
        self.static = [x.clone() for x in inputs]  # keeps each input's memory format
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self.step(*self.static)
        except RuntimeError as exc:
            # Something in the step cannot be captured: say so once and go on eagerly (the
            # capture ran no kernel, so nothing was updated).
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            print(
                f"isdarts: CUDA graph capture of the {self.name} failed ({first}); "
                "continuing without graphs",
                file=sys.stderr,
            )
            self.enabled = False
            return False
        self.graph = graph
        return True

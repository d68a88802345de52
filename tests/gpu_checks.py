"""Checks of the CUDA-graph paths, runnable without pytest (a GPU machine may have torch,
numpy, pandas, matplotlib and pyyaml only): ``python tests/gpu_checks.py [--device cuda]``
runs every ``check_*`` function and prints one line each; ``tests/test_gpu.py`` runs the
same functions under pytest (on the CPU the graphed code runs eagerly, so the CPU checks
compare the device-side sums and checks with the eager loop; on CUDA they compare captured
graphs with eager steps).

Each check takes the device and raises AssertionError with the numbers on a mismatch.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a script from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isdarts.run import engine
from isdarts.search.graphed import train_epoch_graphed
from isdarts.search.step import ArchState, train_epoch
from isdarts.spaces.nb201.importance import measure_importance
from isdarts.spaces.nb201.names import full_mask
from isdarts.spaces.nb201.supernet import Supernet, SupernetConfig


def steps(device: torch.device) -> int:
    """Full batches per compared epoch (then one smaller batch, which runs eagerly): the
    issue's 50 on CUDA, 8 on the CPU (exact there, and slow)."""
    return 50 if device.type == "cuda" else 8


def _setup(device: torch.device, darts: bool, channels: int, cells: int, seed: int = 0):
    """A supernet (channels-last), its SGD and, for DARTS, alpha with a capturable Adam."""
    torch.manual_seed(seed)
    net = Supernet(SupernetConfig(channels, cells, 10)).to(device)
    net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(
        net.parameters(), lr=0.025, momentum=0.9, nesterov=True, weight_decay=3e-4
    )
    arch = None
    if darts:
        alpha = torch.nn.Parameter(1e-3 * torch.randn(6, 5, device=device))
        adam = torch.optim.Adam(
            [alpha],
            lr=3e-4,
            betas=(0.5, 0.999),
            weight_decay=1e-3,
            capturable=device.type == "cuda",
        )
        arch = ArchState(alpha, adam)
    return net, opt, arch


def _batches(device: torch.device, n: int, seed: int, batch: int = 64, last: int = 40):
    """``n`` random normalised batches of ``batch`` images and one of ``last`` images."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for size in [batch] * n + [last]:
        x = torch.randn(size, 3, 32, 32, generator=g).to(device)
        x = x.contiguous(memory_format=torch.channels_last)
        out.append((x, torch.randint(0, 10, (size,), generator=g).to(device)))
    return out


def _clone(net, opt, arch):
    """Deep copies of the three, the optimisers pointing at the copies' parameters."""
    net2 = copy.deepcopy(net)
    opt2 = type(opt)(net2.parameters(), **opt.defaults)
    opt2.load_state_dict(opt.state_dict())
    arch2 = None
    if arch is not None:
        alpha = torch.nn.Parameter(arch.alpha.detach().clone())
        adam = type(arch.optimizer)([alpha], **arch.optimizer.defaults)
        adam.load_state_dict(arch.optimizer.state_dict())
        arch2 = ArchState(alpha, adam, first=arch.first)
    return net2, opt2, arch2


def _max_diff(a: torch.nn.Module, b: torch.nn.Module) -> float:
    return max(
        float((x.detach() - y.detach()).abs().max())
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
        if x.is_floating_point()
    )


def _epoch_pair(device: torch.device, darts: bool, first: bool = False):
    channels, cells = (16, 5) if device.type == "cuda" else (4, 1)
    net, opt, arch = _setup(device, darts, channels, cells)
    if arch is not None:
        arch.first = first
    mask = full_mask()
    mask[1][0] = False  # a removed op, as after a shrink step
    train = _batches(device, steps(device), seed=1)
    valid = _batches(device, steps(device), seed=2)
    twin = _clone(net, opt, arch)
    kw = dict(mask=mask, grad_clip=5.0, desc="epoch 1/1")
    eager = train_epoch(net, iter(train), len(train), opt, arch=arch,
                        valid_batches=iter(valid), **kw)  # fmt: skip
    graphed = train_epoch_graphed(twin[0], iter(train), len(train), twin[1], arch=twin[2],
                                  valid_batches=iter(valid), graphs=True, **kw)  # fmt: skip
    return (net, arch, eager), (twin[0], twin[2], graphed)


def _compare_epochs(device: torch.device, darts: bool, first: bool = False) -> str:
    (net, arch, eager), (net2, arch2, graphed) = _epoch_pair(device, darts, first)
    exact = device.type != "cuda"  # on the CPU both run the same kernels in the same order
    tol = 0.0 if exact else 2e-3
    n = steps(device) + 1
    assert eager.steps == graphed.steps == n, (eager.steps, graphed.steps)
    assert abs(eager.loss - graphed.loss) <= tol * max(1.0, abs(eager.loss)), (
        f"loss eager {eager.loss!r} graphed {graphed.loss!r}"
    )
    assert abs(eager.acc - graphed.acc) <= (0.0 if exact else 1.0), (eager.acc, graphed.acc)
    diff = _max_diff(net, net2)
    assert diff <= tol, f"weights differ by up to {diff:.3g} after {n} steps"
    if darts:
        d_alpha = float((arch.alpha - arch2.alpha).detach().abs().max())
        assert d_alpha <= tol, f"alpha differs by up to {d_alpha:.3g}"
    return f"loss {eager.loss:.6f} vs {graphed.loss:.6f}, max weight difference {diff:.2e}"


def check_isdarts_epoch_graphed_equals_eager(device: torch.device) -> str:
    """IS-DARTS: 50 graphed steps (and one eager, smaller batch) end where eager ones do."""
    return _compare_epochs(device, darts=False)


def check_darts_epoch_graphed_equals_eager(device: torch.device) -> str:
    """First-order DARTS, architecture step after the weight step (the NAS-Bench-201 order)."""
    return _compare_epochs(device, darts=True)


def check_darts_arch_first_graphed_equals_eager(device: torch.device) -> str:
    """First-order DARTS with the architecture step first (the original DARTS order)."""
    return _compare_epochs(device, darts=True, first=True)


def check_graphed_importance_equals_eager_and_reference(device: torch.device) -> str:
    """The importance pass replayed as a graph gives the eager fast probe's scores, and both
    the reference probe's (float64, the paper's formula as written)."""
    channels, cells = (16, 5) if device.type == "cuda" else (4, 1)
    net, _, _ = _setup(device, False, channels, cells)
    mask = full_mask()
    mask[2][3] = False
    batches = _batches(device, 6, seed=3, last=24)
    graphed = measure_importance(net, iter(batches), mask, graphs=True)
    eager = measure_importance(net, iter(batches), mask, graphs=False)
    reference = measure_importance(net, iter(batches), mask, fast=False)
    alive = ~torch.isnan(torch.from_numpy(eager))
    g, e, r = (torch.from_numpy(s)[alive] for s in (graphed, eager, reference))
    assert torch.equal(torch.isinf(g), torch.isinf(e)) and torch.equal(
        torch.isinf(e), torch.isinf(r)
    )
    finite = ~torch.isinf(e)
    rel = float(((g - e)[finite] / e[finite]).abs().max())
    rel_ref = float(((e - r)[finite] / r[finite]).abs().max())
    assert rel <= 1e-9 if device.type != "cuda" else rel <= 1e-6, f"graphed vs eager: {rel:.3g}"
    assert rel_ref <= 1e-4, f"fast vs reference probe: {rel_ref:.3g}"
    return f"graphed vs eager {rel:.2e}, fast vs reference {rel_ref:.2e} (relative)"


def check_nonfinite_loss_names_the_first_bad_step(device: torch.device) -> str:
    """A loss that turns NaN is caught at the end of the epoch, naming the step it turned."""
    net, opt, _ = _setup(device, False, 4, 1)
    batches = _batches(device, 4, seed=4)
    poisoned = [
        b if i < 2 else (torch.full_like(b[0], math.nan), b[1]) for i, b in enumerate(batches)
    ]
    try:
        train_epoch_graphed(net, iter(poisoned), len(poisoned), opt, mask=full_mask(),
                            grad_clip=5.0, desc="epoch 3/9", graphs=True)  # fmt: skip
    except engine.NonFiniteLoss as exc:
        assert "epoch 3/9, step 3" in str(exc), str(exc)
        return str(exc)
    raise AssertionError("no NonFiniteLoss for a NaN loss")


def check_graphed_search_resumes_to_the_same_cell(device: torch.device) -> str:
    """A smoke search stopped after its second epoch and resumed ends with the same log (but
    the seconds) and cell as one run straight through, graphs on where the device has them."""
    from isdarts.search.loop import SearchRequest, run_search
    from isdarts.spaces.nb201.profile import load_profile

    prof = load_profile("smoke")
    data_root = os.environ.get("ISDARTS_DATA_ROOT")
    graphs = "on" if device.type == "cuda" else "off"
    with tempfile.TemporaryDirectory() as tmp:

        def request(name: str, method: str) -> SearchRequest:
            return SearchRequest(method, "cifar10", 0, prof, Path(tmp) / name,
                                 data_root=data_root, device=device.type, cuda_graphs=graphs)  # fmt: skip

        def stop_at_2(epoch: int) -> None:
            if epoch == 2:
                raise KeyboardInterrupt

        lines = []
        for method in ("isdarts", "darts"):
            whole = run_search(request(f"{method}-a", method))
            try:
                run_search(request(f"{method}-b", method), on_epoch_end=stop_at_2)
            except KeyboardInterrupt:
                pass
            resumed = run_search(request(f"{method}-b", method))
            assert whole["cuda_graphs"] == resumed["cuda_graphs"] == (device.type == "cuda")
            assert (whole["arch"], whole["index"]) == (resumed["arch"], resumed["index"]), (
                whole["arch"],
                resumed["arch"],
            )
            rows = [_no_seconds(Path(tmp) / f"{method}-{k}" / "log.jsonl") for k in "ab"]
            assert rows[0] == rows[1], f"{method}: the resumed log differs"
            lines.append(f"{method} cell {whole['index']}")
    return ", ".join(lines)


def _no_seconds(log: Path) -> list[dict]:
    import json

    rows = [json.loads(line) for line in log.read_text().splitlines()]
    for r in rows:
        r.pop("seconds", None)
    return rows


CHECKS = [v for k, v in sorted(globals().items()) if k.startswith("check_") and callable(v)]


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("-k", default="", help="run only the checks whose name contains this")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    failed = 0
    for fn in CHECKS:
        if args.k not in fn.__name__:
            continue
        t0 = time.perf_counter()
        try:
            detail = fn(device)
            status = "PASS"
        except Exception as exc:  # report every check, then fail
            detail, status = f"{type(exc).__name__}: {exc}", "FAIL"
            failed += 1
        print(f"{status} {fn.__name__} ({time.perf_counter() - t0:.1f} s): {detail}", flush=True)
    print(f"gpu_checks device={device} failed={failed} of {len(CHECKS)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

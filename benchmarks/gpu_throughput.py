"""Search throughput on one GPU at the ``paper`` profile: eager against CUDA-graphed training
steps (IS-DARTS; first-order DARTS with its architecture step), the importance pass against a
no-grad forward, several searches side by side, and projections of one ``paper`` search and of
the NAS-Bench-201 part of ``config/paper.yaml`` (IS-DARTS and DARTS, 5 seeds each).

Everything runs through the search's own code: :func:`isdarts.search.step.train_epoch` (eager)
and :func:`isdarts.search.graphed.train_epoch_graphed` (graphed, captured again per epoch as in
a search), the method's architecture state and the real in-memory loader with its batched
augmentation, on random uint8 images (the step's cost does not depend on the pixels).

- Step times: an epoch of S1 and one of S2 steps, each after a warm-up epoch; the step is
  ``(t2 - t1) / (S2 - S1)`` and the per-epoch cost (capture, warm-up step, the epoch's sums read
  back) ``t1 - S1 * step``, so that a short benchmark projects a 782-step epoch correctly.
- Importance: the graphed pass over B batches against B eager no-grad forwards (eval mode).
- Concurrency: k worker processes, each timing graphed IS-DARTS steps at once, for each k of
  ``--processes``; and one process replaying k captured steps on k CUDA streams
  (``--streams``). The fastest aggregate throughput sets the concurrency of the projection.
- Projection of a ``paper`` IS-DARTS search: 30 epochs of 782 steps with every op (the shrink
  steps make the last 8 epochs cheaper, so this is an upper bound) plus 4 importance passes of
  782 batches; DARTS: 50 epochs of 391 steps. The table: 5 of each scheduled longest first on
  the best concurrency's slots, each search slowed by the measured factor.

Usage: python benchmarks/gpu_throughput.py [--device cuda] [--quick]
Last line: ``step_ms=... importance_ratio=... paper_minutes=... table_minutes=...``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isdarts.cuda_graph import GraphedStep  # noqa: E402
from isdarts.data.loader import BatchLoader  # noqa: E402
from isdarts.search.graphed import train_epoch_graphed  # noqa: E402
from isdarts.search.methods import get_method  # noqa: E402
from isdarts.search.step import train_epoch  # noqa: E402
from isdarts.spaces.nb201.importance import measure_importance  # noqa: E402
from isdarts.spaces.nb201.names import full_mask  # noqa: E402
from isdarts.spaces.nb201.profile import load_profile  # noqa: E402
from isdarts.spaces.nb201.supernet import Supernet, SupernetConfig  # noqa: E402

IS_STEPS = 782  # ceil(50,000 / 64): an IS-DARTS epoch of the paper profile
DARTS_STEPS = 391  # ceil(25,000 / 64): a DARTS epoch on one half
MEAN, STD = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build(prof, method: str, device: torch.device, seed: int = 0):
    """Supernet, its SGD and the method's architecture state, as a search builds them."""
    torch.manual_seed(seed)
    net = Supernet(SupernetConfig(prof.channels, prof.cells_per_stage, 10)).to(device)
    if prof.channels_last:
        net = net.to(memory_format=torch.channels_last)
    m = get_method(method, "nb201")
    opt = torch.optim.SGD(
        net.parameters(),
        lr=prof.lr,
        momentum=prof.momentum,
        nesterov=m.nesterov(prof),
        weight_decay=m.weight_decay(prof),
    )
    return net, opt, m.arch(prof, (6, 5), device)


def loader(prof, device: torch.device, n: int, seed: int) -> BatchLoader:
    g = np.random.default_rng(seed)
    images = g.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = g.integers(0, 10, n)
    return BatchLoader(
        images, labels, prof.batch_size, mean=MEAN, std=STD, device=device,
        seed=seed, channels_last=prof.channels_last, drop_last=True,
    )  # fmt: skip


def time_epoch(prof, method: str, graphs: bool, steps: int, device: torch.device) -> float:
    """Seconds of one epoch of ``steps`` steps, after a warm-up epoch."""
    net, opt, arch = build(prof, method, device)
    train = loader(prof, device, steps * prof.batch_size, 1)
    valid = loader(prof, device, steps * prof.batch_size, 2) if arch is not None else None
    fn = train_epoch_graphed if graphs else train_epoch
    seconds = 0.0
    for epoch in range(2):
        if arch is not None:
            arch.begin_epoch(1, 2)
        sync(device)
        t0 = time.perf_counter()
        fn(net, train.batches(epoch), steps, opt, mask=full_mask(), grad_clip=prof.grad_clip,
           desc="bench", arch=arch,
           valid_batches=None if valid is None else valid.batches(epoch))  # fmt: skip
        sync(device)
        seconds = time.perf_counter() - t0
    return seconds


def step_cost(prof, method: str, graphs: bool, s1: int, s2: int, device) -> tuple[float, float]:
    """(ms per step, ms per epoch besides the steps) from epochs of s1 and s2 steps."""
    t1 = time_epoch(prof, method, graphs, s1, device)
    t2 = time_epoch(prof, method, graphs, s2, device)
    step = (t2 - t1) / (s2 - s1)
    return 1000 * step, 1000 * max(t1 - s1 * step, 0.0)


def importance_cost(prof, device: torch.device, batches: int) -> tuple[float, float]:
    """(ms per batch of the graphed importance pass, ms per eager no-grad forward)."""
    net, _, _ = build(prof, "isdarts", device)
    data = loader(prof, device, batches * prof.batch_size, 3)
    listed = list(data.batches(0))
    graphs = device.type == "cuda"
    measure_importance(net, iter(listed), full_mask(), graphs=graphs)  # warm-up
    sync(device)
    t0 = time.perf_counter()
    measure_importance(net, iter(listed), full_mask(), graphs=graphs)
    sync(device)
    t_imp = (time.perf_counter() - t0) / batches
    net.eval()
    with torch.no_grad():
        for x, _ in listed[:3]:
            net(x, full_mask(), None)
        sync(device)
        t0 = time.perf_counter()
        for x, _ in listed:
            net(x, full_mask(), None)
        sync(device)
    return 1000 * t_imp, 1000 * (time.perf_counter() - t0) / batches


def worker(prof, device: torch.device, steps: int) -> float:
    """Graphed IS-DARTS steps per second of this process (a concurrency worker), per-epoch
    costs included (the same for every concurrency level)."""
    return steps / time_epoch(prof, "isdarts", device.type == "cuda", steps, device)


def processes_throughput(k: int, args) -> float:
    """Aggregate graphed steps per second of k worker processes started together."""
    cmd = [sys.executable, __file__, "--worker", "--device", args.device,
           "--profile", args.profile, "--steps", str(args.worker_steps)]  # fmt: skip
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(k)]
    rates = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode:
            raise SystemExit(f"a concurrency worker failed (exit {p.returncode})")
        rates.append(float(out.strip().splitlines()[-1]))
    return sum(rates)


def streams_throughput(k: int, prof, device: torch.device, steps: int) -> float:
    """Aggregate steps per second of one process replaying k captured IS-DARTS steps (k
    supernets) round-robin on k CUDA streams."""
    import torch.nn.functional as F

    graphs, inputs = [], []
    for i in range(k):
        net, opt, _ = build(prof, "isdarts", device, seed=i)
        params = [p for p in net.parameters() if p.requires_grad]
        x, y = next(iter(loader(prof, device, prof.batch_size, 10 + i).batches(0)))

        def step(x, y, net=net, opt=opt, params=params):
            loss = F.cross_entropy(net(x, full_mask(), None), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, prof.grad_clip)
            opt.step()

        g = GraphedStep(step, enabled=True, name=f"stream {i}")
        g(x, y)  # warm-up
        g(x, y)  # capture
        graphs.append(g)
        inputs.append((x, y))
    streams = [torch.cuda.Stream() for _ in range(k)]
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        for g, s in zip(graphs, streams, strict=True):
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                g.graph.replay()
    for s in streams:
        torch.cuda.current_stream().wait_stream(s)
    sync(device)
    return k * steps / (time.perf_counter() - t0)


def makespan(durations: list[float], slots: int, slowdown: float) -> float:
    """Longest-first list scheduling of ``durations`` (each stretched by ``slowdown``)."""
    free = [0.0] * slots
    for d in sorted(durations, reverse=True):
        i = free.index(min(free))
        free[i] += d * slowdown
    return max(free)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--profile", default="paper")
    p.add_argument("--quick", action="store_true", help="a seconds-long run (smoke profile)")
    p.add_argument("--processes", help="concurrency levels, processes (default 1,2,4,8)")
    p.add_argument("--streams", default="2,4", help="concurrency levels (streams, one process)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=60, help="steps of the longer timed epoch")
    p.add_argument("--worker-steps", type=int, default=40)
    p.add_argument("--json", help="also write the figures to this JSON file")
    args = p.parse_args()
    device = torch.device(args.device)
    if args.quick:
        args.profile, args.steps, args.worker_steps = "smoke", 6, 4
        args.streams = ""
    if args.processes is None:
        args.processes = "1" if args.quick else "1,2,4,8"
    prof = load_profile(args.profile)
    if args.worker:
        print(worker(prof, device, args.steps))
        return
    cuda = device.type == "cuda"
    s1, s2 = max(args.steps // 3, 2), args.steps
    out: dict = {"device": torch.cuda.get_device_name(device) if cuda else "cpu",
                 "torch": torch.__version__, "profile": prof.name}  # fmt: skip
    for method in ("isdarts", "darts"):
        for graphs in (False, True) if cuda else (False,):
            if cuda:
                torch.cuda.reset_peak_memory_stats(device)
            ms, per_epoch = step_cost(prof, method, graphs, s1, s2, device)
            key = f"{method}_{'graphed' if graphs else 'eager'}"
            out[key + "_step_ms"], out[key + "_epoch_overhead_ms"] = ms, per_epoch
            if cuda:
                out[key + "_peak_gb"] = torch.cuda.max_memory_allocated(device) / 2**30
            print(f"{key}: {ms:.2f} ms/step, {per_epoch:.0f} ms per epoch besides the steps",
                  flush=True)  # fmt: skip
    imp_ms, fwd_ms = importance_cost(prof, device, max(args.steps // 2, 3))
    out.update(importance_ms=imp_ms, forward_ms=fwd_ms, importance_ratio=imp_ms / fwd_ms)
    print(f"importance pass {imp_ms:.2f} ms/batch, no-grad forward {fwd_ms:.2f} ms: "
          f"ratio {imp_ms / fwd_ms:.2f}", flush=True)  # fmt: skip
    mode = "graphed" if cuda else "eager"
    is_step, is_over = out[f"isdarts_{mode}_step_ms"], out[f"isdarts_{mode}_epoch_overhead_ms"]
    da_step, da_over = out[f"darts_{mode}_step_ms"], out[f"darts_{mode}_epoch_overhead_ms"]
    passes = prof.shrink_steps * IS_STEPS * imp_ms
    paper_min = (prof.epochs * (IS_STEPS * is_step + is_over) + passes) / 60_000
    darts_min = prof.darts.epochs * (DARTS_STEPS * da_step + da_over) / 60_000
    out.update(paper_minutes=paper_min, darts_minutes=darts_min)
    rates = {"processes=1": 1000 / is_step}
    for k in [int(v) for v in args.processes.split(",") if v]:
        if k > 1 or args.quick:
            rates[f"processes={k}"] = processes_throughput(k, args)
            print(f"{k} processes: {rates[f'processes={k}']:.1f} steps/s in all", flush=True)
    for k in [int(v) for v in args.streams.split(",") if v] if cuda else []:
        rates[f"streams={k}"] = streams_throughput(k, prof, device, args.worker_steps)
        print(f"{k} streams: {rates[f'streams={k}']:.1f} steps/s in all", flush=True)
    best = max(rates, key=rates.get)
    k = int(best.split("=")[1])
    speedup = rates[best] / rates["processes=1"]
    table_min = makespan([paper_min] * 5 + [darts_min] * 5, k, k / speedup)
    out.update(throughput=rates, best=best, speedup=speedup, table_minutes=table_min)
    print(f"best concurrency {best}: {speedup:.2f}x one search's throughput")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    print(
        f"step_ms={is_step:.2f} importance_ratio={imp_ms / fwd_ms:.2f} "
        f"paper_minutes={paper_min:.1f} table_minutes={table_min:.1f}"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

"""Per-step time of DARTS-space final training on this machine (to size the ``cpu`` profile).

Usage: python benchmarks/darts_train_step.py --genotype isdarts_published --channels 16
       --layers 8 --batch 64 [--steps 5] [--threads 2] [--channels-last]
Times ``--steps`` training steps (forward with auxiliary head and drop-path, backward, SGD)
after 2 burn-in steps, and the forward pass of evaluation batches of 500.
Last line: ``step_s=<mean> eval_s_per_10k=<extrapolated>``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from isdarts.spaces.darts.eval_net import EvalNetConfig, NetworkCIFAR, count_params
from isdarts.spaces.darts.names import load_genotype


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--genotype", default="isdarts_published")
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--eval-batches", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--channels-last", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = NetworkCIFAR(load_genotype(a.genotype), EvalNetConfig(a.channels, a.layers, True))
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    net.drop_path_prob = 0.1
    opt = torch.optim.SGD(
        net.parameters(), lr=0.025, momentum=0.9, nesterov=True, weight_decay=3e-4
    )
    x = torch.randn(a.batch, 3, 32, 32).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (a.batch,))
    times = []
    for i in range(a.steps + 2):
        t0 = time.perf_counter()
        net.train()
        logits, aux = net(x)
        loss = F.cross_entropy(logits, y) + 0.4 * F.cross_entropy(aux, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    net.eval()
    xe = torch.randn(500, 3, 32, 32).contiguous(memory_format=fmt)
    ev = []
    with torch.no_grad():
        for _ in range(a.eval_batches):
            t0 = time.perf_counter()
            net(xe)
            ev.append(time.perf_counter() - t0)
    step = statistics.mean(times)
    print(
        f"{a.genotype} C={a.channels} layers={a.layers} batch={a.batch} threads={a.threads} "
        f"channels_last={a.channels_last} params={count_params(net) / 1e6:.3f}M"
    )
    print(
        f"train step: {step:.3f} s mean, {min(times):.3f} s min over {a.steps} "
        f"({a.batch / step:.0f} img/s); eval 500 images: {min(ev):.3f} s"
    )
    print(f"step_s={step:.3f} eval_s_per_10k={20 * min(ev):.1f}")


if __name__ == "__main__":
    main()

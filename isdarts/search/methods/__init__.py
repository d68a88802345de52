"""Search methods as plug-ins of the one search loop (:mod:`isdarts.search.loop`).

A method (:class:`base.Method`) says which data its epochs see, how many epochs it runs and
after which of them a shrink step follows, the supernet's SGD settings and options, and
whether it keeps an architecture state (:class:`isdarts.search.step.Arch`: how a forward
weights or samples the ops, its step, the cell it reads out). The loop does everything else
the same way for every method.

- ``isdarts`` (:mod:`.base`): single-level SGD on (a fixed subset of) the whole training set,
  every remaining op mixed with weight 1/K; shrink steps after epochs ``range(E - S*I, E, I)``.
- ``darts`` on NAS-Bench-201 (:mod:`.base`): first-order DARTS as the NAS-Bench-201 authors
  ran it: weights on the train half of the standard 25k/25k split file, alpha (Adam) on the
  valid half after each weight step; the cell is read from alpha, no shrink step.
- ``darts2`` on NAS-Bench-201 (:mod:`.base`): second-order DARTS, the same settings with the
  unrolled architecture gradient (finite-difference Hessian-vector product), alpha's step
  first.
- ``gdas``, ``pcdarts``, ``drnas``, ``betadarts``, ``rsps`` on NAS-Bench-201: the other
  baselines of the paper's table, each a module here, each with its profile block
  (:mod:`isdarts.config.baselines`), all on the two halves of the split file.
- ``enas`` on NAS-Bench-201 (:mod:`.enas`): ENAS, an LSTM controller trained by REINFORCE
  after each epoch of single-path weight steps, as the NAS-Bench-201 authors ran it.
- ``setn`` on NAS-Bench-201 (:mod:`.setn`): SETN, one uniformly drawn cell per weight step,
  alpha by DARTS' mixture; at the end alpha's 100 most probable cells scored on valid batches.
- ``snas``, ``dsnas`` on NAS-Bench-201 (:mod:`.snas`, :mod:`.dsnas`): single-level on the
  training set, alpha learning from the weight step's own backward; SNAS with relaxed Gumbel-
  softmax op weights, DSNAS with one sampled op per edge and its search gradient.
- ``idarts`` on NAS-Bench-201 (:mod:`.idarts`): iDARTS, DARTS' bilevel search with the implicit
  hypergradient (Neumann series for the inverse Hessian), a step per T weight steps.
- ``darts`` in the DARTS space (:mod:`.base`): the original DARTS search (Liu et al., ICLR
  2019), whose rows the DARTS-space tables print: the architecture step before the weight
  step, SGD without Nesterov momentum, the first and the last 25,000 training images as the
  two halves, a batch norm after each pooling candidate (``OriginalDartsSettings``).
"""

from __future__ import annotations

from isdarts.errors import IsdartsError
from isdarts.search.methods.base import Darts, Darts2, IsDarts, Loaders, Method, OriginalDarts
from isdarts.search.methods.betadarts import BetaDarts
from isdarts.search.methods.drnas import DrNas
from isdarts.search.methods.dsnas import Dsnas
from isdarts.search.methods.enas import Enas
from isdarts.search.methods.gdas import Gdas
from isdarts.search.methods.idarts import Idarts
from isdarts.search.methods.pcdarts import PcDarts
from isdarts.search.methods.rsps import Rsps
from isdarts.search.methods.setn import Setn
from isdarts.search.methods.snas import Snas

__all__ = ["METHODS", "Darts", "Loaders", "Method", "OriginalDarts", "get_method"]

# space -> method name -> plug-in
METHODS: dict[str, dict[str, Method]] = {
    "nb201": {
        m.name: m
        for m in (
            IsDarts(),
            Darts(),
            Darts2(),
            Gdas(),
            PcDarts(),
            DrNas(),
            BetaDarts(),
            Rsps(),
            Enas(),
            Setn(),
            Snas(),
            Dsnas(),
            Idarts(),
        )
    },
    "darts": {m.name: m for m in (IsDarts(), OriginalDarts())},
}


def get_method(name: str, space: str = "nb201") -> Method:
    methods = METHODS[space]
    try:
        return methods[name]
    except KeyError:
        raise IsdartsError(f"--method {name}: expected one of {', '.join(methods)}") from None

"""Figures of a set of NAS-Bench-201 searches (matplotlib, PNG, no pyplot and no global state),
drawn from each search's ``log.jsonl``; any subset of methods, any number of seeds.

- ``accuracy`` (:mod:`.figures_accuracy`): a strip plot of each seed's final cell on the three
  data sets (test accuracy), the mean and the published value per method; below it, small
  multiples, one row per method on its own epoch axis and one column per data set: the
  current cell's benchmark test accuracy per epoch (mean, min-max band, each seed thin), the
  method's published value dashed, shrink steps marked.
- ``ops`` (:mod:`.figures_cells`): small multiples, per method the current cell's ops per
  epoch (stacked, 6 edges) and, for a method that shrinks its supernet, the candidates left;
  no empty panel.
- ``importance`` (:mod:`.figures_importance`): the importance scores at each shrink step, every
  run (one row each), +inf on a line of its own.
- ``alphas`` (:mod:`.figures_cells`): the softmax architecture weights per edge and op per
  epoch, mean over seeds, one row per method whose log holds them on more than one epoch,
  each on its own epoch axis.

Methods keep their colour (``isdarts.config.methods``) in every figure; ops have a palette of
their own (:data:`.figures_common.OP_COLORS`) that shares no colour with a method.
"""

from __future__ import annotations

from pathlib import Path

from isdarts.report.figures_accuracy import accuracy_figure
from isdarts.report.figures_cells import alphas_figure, ops_figure
from isdarts.report.figures_common import OP_COLORS, Run, load_runs
from isdarts.report.figures_common import score as _score
from isdarts.report.figures_importance import importance_figure
from isdarts.report.published import PublishedRow

__all__ = [
    "OP_COLORS",
    "Run",
    "_score",
    "accuracy_figure",
    "alphas_figure",
    "importance_figure",
    "load_runs",
    "make_figures",
    "ops_figure",
]


def make_figures(
    result_paths,
    accuracy=None,
    ops=None,
    importance=None,
    published: list[PublishedRow] = (),
    alphas=None,
) -> list[Path]:
    """Each figure given a path, in this order; the runs are read (and checked) once."""
    runs = load_runs(result_paths)
    written = []
    if accuracy:
        written.append(accuracy_figure(runs, accuracy, published))
    if ops:
        written.append(ops_figure(runs, ops))
    if importance:
        written.append(importance_figure(runs, importance))
    if alphas:
        written.append(alphas_figure(runs, alphas))
    return written

"""Every random stream of a run, named once and derived from the run's seed.

A run (search or final training) draws from these streams only; each depends on (seed,
epoch) and nothing else, so a run killed after epoch e and resumed from its checkpoint draws
exactly what an uninterrupted run draws.

======================  ==============================================================
stream                  what draws from it
======================  ==============================================================
``init``                torch's global generator before the network (and DARTS' alpha,
                        drawn right after the weights) is built
``epoch_draws``         torch's global generator, reseeded at the start of every epoch
                        (drop-path in the final training)
``batches``             a data loader's own generator: the order and augmentation of one
                        epoch's batches
``importance_epoch``    the epoch index the importance pass after epoch e passes to the
                        loader (a stream of its own, apart from every training epoch)
``valid_stream``        the seed of DARTS' valid-half loader (its architecture steps)
``valid_epoch``         the loader epoch of DARTS' k-th pass over the valid half in epoch e
``select_stream``       the seed of the loader scoring the final candidates (SETN), where it
                        is not the valid-half loader of the architecture steps
``SUBSET_SEED``         the fixed permutation choosing a training or test subset: the same
                        images for every seed and method
======================  ==============================================================
"""

from __future__ import annotations

SUBSET_SEED = 0
MAX_SEED = 2**32 - 1  # every derived stream then stays within the generators' 64-bit range
_EPOCH_DRAWS = 100_003
_BATCHES = 1_000_003
_IMPORTANCE_EPOCHS = 10_000
_VALID = 7_919
_VALID_PASSES = 1_000
_SELECT = 104_729


def parse_seed(text: str) -> int:
    """A run's seed from the command line: an integer in 0..MAX_SEED."""
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"expected an integer in 0..{MAX_SEED}, got {text!r}")
    return seed


def init(seed: int) -> int:
    return seed


def epoch_draws(seed: int, epoch: int) -> int:
    return seed * _EPOCH_DRAWS + epoch


def batches(seed: int, epoch: int) -> int:
    return seed * _BATCHES + epoch


def importance_epoch(epoch: int) -> int:
    return _IMPORTANCE_EPOCHS + epoch


def valid_stream(seed: int) -> int:
    return seed + _VALID


def valid_epoch(epoch: int, k: int) -> int:
    return epoch * _VALID_PASSES + k


def select_stream(seed: int) -> int:
    return seed + _SELECT

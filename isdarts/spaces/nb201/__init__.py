"""The NAS-Bench-201 search space: names (torch-free), ops, supernet, importance probe and
shrink rule, search adapter and profile."""

"""The DARTS search space: names and genotypes (torch-free), ops, supernet, importance probe
and node-wise shrink rule, search adapter and profile, the evaluation network, cell diagrams."""

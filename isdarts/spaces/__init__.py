"""Search spaces: NAS-Bench-201 (``nb201``) and the DARTS space."""

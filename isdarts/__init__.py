"""isdarts: reproduction harness for IS-DARTS (AAAI 2024).

Importing the package sets no global state (no cudnn flags, no thread counts, no downloads).
"""

__version__ = "0.1.0"

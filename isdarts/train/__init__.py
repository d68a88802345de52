"""Final training of a DARTS-space genotype from scratch (``isdarts train``)."""

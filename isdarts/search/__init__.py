"""Architecture search on NAS-Bench-201: IS-DARTS and the first-order DARTS baseline."""

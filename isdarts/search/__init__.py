"""Architecture search: one loop (:mod:`isdarts.search.loop`) for every method
(:mod:`isdarts.search.methods`: IS-DARTS, first-order DARTS) on every space
(:mod:`isdarts.spaces`), its training step (:mod:`isdarts.search.step`) and the CLI."""

"""Architecture search: IS-DARTS and the first-order DARTS baseline on the NAS-Bench-201 space
(:mod:`isdarts.search.run`) and the DARTS space (:mod:`isdarts.search.darts`), both driven by
one search engine (:mod:`isdarts.search.loop`)."""

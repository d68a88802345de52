"""What every long run (search, final training) shares: the resumable epoch engine
(:mod:`isdarts.run.engine`) and the device (:mod:`isdarts.run.device`)."""

"""The garbage-collector settings of a server process, in one place.

Applied by asgi_blog/asgi.py once everything is loaded, and by the benchmark's raw
ceilings, so that a ratio to a ceiling measures the app's own work, not a
collector pause that one side has and the other does not.
"""

from __future__ import annotations

import gc

# A young generation of 10,000 objects rather than 2,000: what each keepalive ping and
# each broadcast allocates then dies young instead of piling into the old generation.
# And the older generations collected after 50 younger passes, not the default 10: a full pass
# over 5,000 open sockets pauses every one of them for about half a second (bench/RESULTS.md),
# and with the defaults one comment fanned out to 5,000 readers allocates enough to start one.
THRESHOLDS = (10_000, 50, 50)


def tune_for_long_lived_sockets() -> None:
    # Everything loaded so far lives as long as the process: keep it out of the
    # collector's full passes, which otherwise pause every socket of a busy server.
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)

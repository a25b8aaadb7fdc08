"""Gunicorn settings of the web process, read by the Procfile's command and `make bench`."""

import gc

# Close each connection after its answer. With keep-alive, a client's connections
# stay with the worker that accepted them: under a USSD load one worker took most
# of them and ran at a full core while the other idled, and a hop waited behind
# its neighbours (bench/RESULTS.md). Accepting anew for every request spreads the
# requests over the workers; a connection on loopback or from the platform's
# router costs far less than a hop.
keepalive = 0


def post_worker_init(worker) -> None:
    """Take what the app built at start out of the cyclic garbage collector's sight.

    The app, its routes, catalogs, models and compiled queries live as long as
    the process. Frozen, a full collection no longer walks those ~150,000
    objects: that walk cost a single USSD hop more than 100 ms.
    """
    gc.collect()
    gc.freeze()

"""Gunicorn settings of the web process, read by the Procfile's command and `make bench`."""

import gc
import multiprocessing
import os

# Processes, one request at a time each. A USSD hop or a webhook is about a
# millisecond of Python and a few Redis round trips: threads of one process
# would only take turns at the GIL, and that turn-taking cost more than the hop
# (bench/RESULTS.md: 4 threads a process served a USSD walk at 0.5 of bare
# Flask's rate, one thread a process at 0.65). Twice the cores plus one keeps a
# core busy while another process waits on Redis or the database; WEB_CONCURRENCY
# sets another count, as hosting platforms do.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)

# Close each connection after its answer, so each request is accepted by
# whichever process is free: a kept-alive connection stays with one process
# while others idle (bench/RESULTS.md). A connection on loopback or from the
# platform's router costs far less than a hop.
keepalive = 0


def post_worker_init(worker) -> None:
    """Take what the app built at start out of the cyclic garbage collector's sight.

    The app, its routes, catalogs, models and compiled queries live as long as
    the process. Frozen, a full collection no longer walks those ~150,000
    objects: that walk cost a single USSD hop more than 100 ms.
    """
    gc.collect()
    gc.freeze()

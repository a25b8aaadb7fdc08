"""Gunicorn settings of the web process, read by the Procfile's command and `make bench`."""

import gc


def post_worker_init(worker) -> None:
    """Take what the app built at start out of the cyclic garbage collector's sight.

    The app, its routes, catalogs, models and compiled queries live as long as
    the process. Frozen, a full collection no longer walks those ~150,000
    objects: that walk cost a single USSD hop more than 100 ms (bench/RESULTS.md).
    """
    gc.collect()
    gc.freeze()

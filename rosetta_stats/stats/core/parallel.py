"""Run independent blocks of work here or on a dask.distributed cluster.

``map_blocks(function, blocks, shared, client)`` calls ``function(block,
**shared)`` for every block and returns the results in order. Without a
client it is a plain loop; with a ``dask.distributed.Client`` the shared
arrays are scattered to every worker once and the blocks run as tasks, which
the scheduler retries on another worker if one dies. Random numbers are
always drawn by the caller, so a cluster gives the same numbers as one
process for the same seed.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tqdm.auto import tqdm

from ...common.errors import RosettaError


class ClusterError(RosettaError, RuntimeError):
    """The cluster could not finish the work (workers kept dying, or it went away)."""


@contextlib.contextmanager
def connect(address: str, timeout: float = 30.0):
    """A ``dask.distributed.Client`` for a scheduler address (``tcp://host:8786``), or, for "local", for a
    ``LocalCluster`` of this machine's cores (one thread per worker), closed (cluster too) on leaving."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - distributed ships with the package's dependencies
        raise ClusterError("a cluster needs the Python package distributed (dask.distributed)") from exc
    if address == "local":
        with LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address=None) as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"no dask scheduler answered at {address} within {timeout:g} s") from exc
    with client:
        yield client


def map_blocks(function: Callable, blocks: Sequence[Any], shared: dict | None = None, client=None,
               retries: int = 2, progress: bool = False, desc: str | None = None, threads: bool = False) -> list:
    """``[function(block, **shared) for block in blocks]``, on the cluster when ``client`` is given.

    ``progress`` shows a tqdm bar over the blocks (labelled ``desc``) when they run here.
    ``threads`` runs them on one thread per core of this machine instead (for
    numpy work that releases the GIL); the results keep the blocks' order.
    """
    shared = shared or {}
    if client is None:
        label = desc or function.__name__
        if threads and len(blocks) > 1 and (os.cpu_count() or 1) > 1:
            with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
                results = pool.map(lambda block: function(block, **shared), blocks)
                return list(tqdm(results, total=len(blocks), desc=label, disable=not progress, leave=False))
        bar = tqdm(blocks, desc=label, disable=not progress, leave=False)
        return [function(block, **shared) for block in bar]
    try:
        from distributed import KilledWorker
    except ImportError as exc:  # pragma: no cover - only without python3-distributed
        raise ClusterError("a client was given but dask.distributed is not installed; run `make setup`") from exc
    try:
        remote = {name: client.scatter(value, broadcast=True, hash=False) for name, value in shared.items()}
        futures = [client.submit(function, block, **remote, pure=False, retries=retries) for block in blocks]
        return client.gather(futures)
    except KilledWorker as exc:
        raise ClusterError(f"dask workers kept dying while running {function.__name__}: {exc}") from exc
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"lost the dask cluster while running {function.__name__}: {exc}") from exc

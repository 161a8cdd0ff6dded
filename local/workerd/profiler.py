"""The main module of a worker on the host started with --profile (`make profile`): the worker's own
main module, re-exported whole (its entrypoints, Durable Object classes, handlers), plus a
`Profiler` entrypoint the control worker calls to run Python's cProfile over the isolate (workerd's
clocks advance locally while code runs, unlike Cloudflare's). The host writes the main module's
name into WORKER_MAIN_MODULE; never part of a deployed worker."""

import cProfile
import importlib
import io
import pstats

from workers import WorkerEntrypoint

WORKER_MAIN_MODULE = "entry"
_worker = importlib.import_module(WORKER_MAIN_MODULE)
globals().update({name: value for name, value in vars(_worker).items() if not name.startswith("_")})

_profile = cProfile.Profile()


class Profiler(WorkerEntrypoint):
    async def start(self) -> None:
        _profile.enable()

    async def stop(self, top: int, sort: str) -> str:
        """The busiest `top` functions since start, sorted by `sort` (a pstats key), as pstats prints them."""
        _profile.disable()
        out = io.StringIO()
        pstats.Stats(_profile, stream=out).sort_stats(sort).print_stats(top)
        _profile.clear()
        return out.getvalue()

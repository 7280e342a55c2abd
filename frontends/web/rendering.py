"""Rendering for the web app: in a small pool of threads of its own, with a time limit per page.

Loading a campaign renders every message (validation), and the preview renders a wave's
messages again. That work never runs in the threads that serve the unsubscribe page, the
images and the dashboard's database pages: it goes to ``WORKERS`` threads kept for it, so a
heavy or broken campaign occupies those and nothing else. Each template render has its own
CPU budget (``campaign.render_deadline``); on top, a page that waits longer than
``PAGE_SECONDS`` gets a clear error page naming the message file being rendered, instead of
hanging the browser. The pool's threads are daemons: stopping the server never waits for a
render.

Loads are shared: requests that need the campaign while it is loading wait for the same load.
Pages only ever await these jobs (``result``): a waiting page holds no thread, so any number of
them leave the server's request threads free.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from queue import SimpleQueue
from typing import Any, TypeVar

from campaign.errors import WavecastError
from campaign.render_deadline import rendering
from frontends.web.i18n import N_

T = TypeVar("T")
WORKERS = 2
PAGE_SECONDS = 20.0


class StillRendering(WavecastError):
    """A page waited longer than PAGE_SECONDS for rendering; the render goes on in its pool."""

    http_status = 503
    title = N_("The campaign is still rendering")


_jobs: SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = SimpleQueue()
_lock = threading.RLock()  # `shared` starts its job while holding it
_threads: list[threading.Thread] = []
_running: dict[int, Future[Any]] = {}  # thread ident -> the job it runs
_loads: dict[str, Future[Any]] = {}


def _work() -> None:
    ident = threading.get_ident()
    while True:
        future, func, args = _jobs.get()
        if not future.set_running_or_notify_cancel():
            continue
        _running[ident] = future
        try:
            future.set_result(func(*args))
        except BaseException as exc:  # handed to the waiting request, which maps it to a page
            future.set_exception(exc)
        finally:
            _running.pop(ident, None)


def submit(func: Callable[..., T], *args: Any) -> Future[T]:
    future: Future[T] = Future()
    with _lock:
        while len(_threads) < WORKERS:
            thread = threading.Thread(target=_work, name=f"wavecast-render-{len(_threads)}", daemon=True)
            thread.start()
            _threads.append(thread)
    _jobs.put((future, func, args))
    return future


def _where(future: Future[Any]) -> str:
    for ident, job in list(_running.items()):
        if job is future:
            label = rendering(ident)
            if label:
                return f" (now rendering {label})"
    return ""


def _too_slow(future: Future[Any]) -> StillRendering:
    return StillRendering(
        f"rendering took longer than {PAGE_SECONDS:g} s{_where(future)}; "
        "it goes on in the background: reload in a moment, or make the message lighter"
    )


async def result(future: Future[T], *, shared: bool = False) -> T:
    """The result, awaited without holding a thread, at most PAGE_SECONDS.

    A request that gives up cancels its own job if it has not started yet; a `shared` job
    (a campaign load other requests wait for) is left alone.
    """
    waiting = asyncio.wrap_future(future)
    waiting.add_done_callback(_retrieved)
    try:
        return await asyncio.wait_for(asyncio.shield(waiting) if shared else waiting, PAGE_SECONDS)
    except TimeoutError:
        raise _too_slow(future) from None


def _retrieved(waiting: asyncio.Future[Any]) -> None:
    """Take a result nobody waits for any more, so asyncio does not log it as lost."""
    if not waiting.cancelled():
        waiting.exception()


async def run(func: Callable[..., T], *args: Any) -> T:
    """Run `func` in the pool and await its result (see ``result``)."""
    return await result(submit(func, *args))


def shared(key: str, load: Callable[[], T]) -> Future[T]:
    """The job running ``load()`` for `key`: started unless one is already under way."""
    with _lock:
        future = _loads.get(key)
        if future is None or future.done():
            future = _loads[key] = submit(load)
        return future

"""A time limit on analysing one spec, and the stage the analysis is in.

SymPy and mpmath can take unbounded time on a formula nobody has seen
(nested exponentials, towers of tanh): a build stops such a spec with a
message that names it and the stage it was in, instead of hanging.
"""

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Seconds one spec may take to analyse and emit; $SYMJVP_BUDGET overrides it.
SECONDS = float(os.environ.get("SYMJVP_BUDGET", 60))
# Seconds between repeats of an expiry: Python discards an exception raised
# in a gc callback or a __del__, and the signal may land in one.
REPEAT = 0.25

_stage = ["reading"]


class OverBudget(Exception):
    """The analysis of a spec ran out of time in ``stage``."""

    def __init__(self, stage: str):
        super().__init__(stage)
        self.stage = stage


def stage(name: str) -> None:
    """Record the stage the analysis has reached, for messages."""
    _stage[0] = name


def current() -> str:
    return _stage[0]


@contextmanager
def budget(seconds: float | None) -> Iterator[None]:
    """Raise :class:`OverBudget` in the block once ``seconds`` have passed.

    A signal timer, so it interrupts pure-Python work anywhere; only the
    main thread receives it, so elsewhere there is no limit.  The timer
    repeats until the block ends, and a block that swallowed every expiry
    and finished is still over its budget.
    """
    stage("reading")
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not seconds or not usable:
        yield
        return

    expired = []

    def expire(signum, frame):
        expired.append(current())
        raise OverBudget(current())

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if expired:
        raise OverBudget(expired[0])

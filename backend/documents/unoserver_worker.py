"""One converter worker: unoserver, and its whole process group killed when the converter dies.

Run by the converter pool as `<uno python> unoserver_worker.py <converter pid> <unoserver arguments…>`, under
the Python that has LibreOffice's `uno` (so this file imports nothing of Qujat). unoserver alone forwards a
SIGTERM to the `soffice` it started and waits for it, but a LibreOffice that is starting, busy or hung may
outlive that, and a grandchild learns nothing of the converter's death. Here the kernel tells this process
(PR_SET_PDEATHSIG) and it kills its group (itself, oosplash, soffice.bin) at once: nothing is left behind,
however the converter went (SIGKILL included). A conversion in flight is lost either way; the client retries.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from types import FrameType

_PR_SET_PDEATHSIG = 1


def _take_down_group(_signum: int, _frame: FrameType | None) -> None:
    os.killpg(os.getpgrp(), signal.SIGKILL)


def main() -> int:
    converter = int(sys.argv[1])
    signal.signal(signal.SIGUSR1, _take_down_group)
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGUSR1)
    if os.getppid() != converter:  # it died before the line above: the kernel will not tell us
        _take_down_group(signal.SIGUSR1, None)
    from unoserver.server import main as unoserver_main

    sys.argv = ["unoserver", *sys.argv[2:]]
    return int(unoserver_main() or 0)


if __name__ == "__main__":
    sys.exit(main())

"""`edubrain serve` with several processes.

Each worker process binds its own listening socket on the same address with `SO_REUSEPORT`, so
the kernel spreads new connections evenly over the workers. With one shared socket (uvicorn's
own `--workers`), the worker that wakes first accepts a whole burst of connections, and
keep-alive connections stay where they landed: under load one process ends up with twice the
other's share. The parent only starts, watches and stops the workers; it serves nothing.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from edubrain.errors import ConflictError

log = logging.getLogger(__name__)

# Connections waiting to be accepted, per worker.
_BACKLOG = 2048


class ServeError(ConflictError):
    """The service cannot listen where it was asked to."""


def refuse_taken_port(host: str, port: int) -> None:
    """Fail (one line, exit 2) if anything already listens on host:port.

    The workers bind with `SO_REUSEPORT`, which lets a second `edubrain serve` (the same user,
    the same option) bind the same port and silently take half of the connections. This probe
    binds *without* it: the kernel refuses while any socket holds the port, reuse-port or not.
    (`SO_REUSEADDR` only lets it past connections of an earlier run in TIME_WAIT.)
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServeError(
                f"cannot serve on {host}:{port}: the port is already in use ({exc.strerror}); "
                "stop the other server or choose another --port"
            ) from None


def balanced_listening_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _worker(host: str, port: int, log_level: str, access_log: bool) -> None:
    import uvicorn

    from edubrain.service.app import serving_process

    serving_process()
    sock = _listening_socket(host, port)
    sock.listen(_BACKLOG)
    config = uvicorn.Config(
        "edubrain.serve:app_from_environment",
        factory=True,
        log_level=log_level,
        access_log=access_log,
        backlog=_BACKLOG,
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve_in_processes(
    host: str, port: int, count: int, *, log_level: str = "info", access_log: bool = False
) -> None:
    """Run `count` workers until SIGINT or SIGTERM; a worker that dies is started again."""
    # Fail here, once, if the address is taken by something that is not one of us.
    _listening_socket(host, port).close()
    spawn = multiprocessing.get_context("spawn")
    args = (host, port, log_level, access_log)
    stopping = False

    def start() -> BaseProcess:
        process = spawn.Process(target=_worker, args=args, name="edubrain-serve-worker")
        process.start()
        return process

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    workers = [start() for _ in range(count)]
    log.info("serving on http://%s:%d with %d processes", host, port, count)
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(workers):
                if not process.is_alive() and not stopping:
                    log.warning("worker %s exited (%s); starting another", process.pid,
                                process.exitcode)  # fmt: skip
                    workers[i] = start()
    finally:
        for process in workers:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + 30
        for process in workers:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""common.py - helpers the benchmark scripts share (bench/*.py import it;
they run as `python3 bench/<name>.py`, so this directory is on sys.path)."""
import socket
import statistics
import time


def free_port():
    """A loopback TCP port nobody listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_http(port, path="/_fogbank/health", ok=(200,), deadline_s=30.0):
    """Polls until GET path answers a status in ok; returns the seconds it
    took. (A benchmark may poll; tests never do.)"""
    import http.client
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < deadline_s:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            if c.getresponse().status in ok:
                return time.perf_counter() - t0
        except OSError:
            pass
    raise RuntimeError("server on %d not up" % port)


def med(v):
    return statistics.median(v)


def p90(v):
    """The 90th percentile by nearest rank."""
    return sorted(v)[min(len(v) - 1, max(0, -(-len(v) * 9 // 10) - 1))]

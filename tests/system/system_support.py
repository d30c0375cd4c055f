"""What the Python system tests share: a free loopback port, the EAL arguments of a run on vdevs without
hugepages or NICs, failing with a message, and stopping the processes a test started."""
import socket
import subprocess
import sys


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def eal(prefix, *vdevs):
    """EAL arguments for two lcores on vdevs, no hugepages, no PCI, a private runtime directory."""
    args = ["-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--log-level", "lib.eal:warning",
            f"--file-prefix={prefix}"]
    for v in vdevs:
        args += ["--vdev", v]
    return args


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def stop(procs, timeout=15):
    """SIGTERM to each, then SIGKILL to those still running after `timeout` seconds."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

"""Check the system-metrics probe against a real NVIDIA GPU (needs the driver and
``pip install "runtrack[gpu]"``): ``python benchmarks/check_gpu_metrics.py``.

It allocates GPU memory through the CUDA driver API (``libcuda``, by ``ctypes``: no
framework needed), first in this process and then in a child process, and takes a
sample after each. ``sys/rank0/gpu_memory_bytes`` must grow by at least what each
allocated, which exercises NVML's per-process figures and the walk of the process tree
(taken only when the process has a child). Prints ``CHECK PASSED`` or exits with 1.
"""

from __future__ import annotations

import ctypes
import subprocess
import sys
import time

KEY = "sys/rank0/gpu_memory_bytes"


def allocate(mib: int) -> None:
    """A CUDA context on GPU 0 holding ``mib`` MiB (kept until the process ends)."""
    cuda = ctypes.CDLL("libcuda.so.1")
    device, context, pointer = ctypes.c_int(), ctypes.c_void_p(), ctypes.c_uint64()
    for call, args in (
        (cuda.cuInit, (0,)),
        (cuda.cuDeviceGet, (ctypes.byref(device), 0)),
        (cuda.cuCtxCreate_v2, (ctypes.byref(context), 0, device)),
        (cuda.cuMemAlloc_v2, (ctypes.byref(pointer), mib << 20)),
    ):
        if call(*args) != 0:
            raise SystemExit(f"CUDA driver call {call.__name__} failed")


def main() -> None:
    if sys.argv[1:] == ["child"]:
        allocate(512)
        print("ready", flush=True)
        time.sleep(60)
        return
    from runtrack.runner import sysmetrics

    nvml = sysmetrics.load_nvml()
    if nvml is None:
        raise SystemExit("no NVML: install runtrack[gpu] on a machine with an NVIDIA GPU")
    probe = sysmetrics.Probe(sysmetrics.this_process, 0, nvml)
    before = probe.sample()[KEY]
    allocate(256)
    own = probe.sample()[KEY]
    child = subprocess.Popen([sys.executable, __file__, "child"], stdout=subprocess.PIPE,
                             text=True)
    try:
        if child.stdout is None or child.stdout.readline().strip() != "ready":
            raise SystemExit("the child could not allocate GPU memory")
        started = time.perf_counter()
        sample = probe.sample()
        spent = time.perf_counter() - started
    finally:
        child.kill()
        child.wait()
    mib = 1 << 20
    print(f"{KEY}: {before / mib:.0f} MiB before, {own / mib:.0f} MiB with 256 MiB here, "
          f"{sample[KEY] / mib:.0f} MiB with 512 MiB more in a child "
          f"(that sample took {spent * 1e3:.1f} ms)")
    print({k: v for k, v in sample.items() if "gpu" in k})
    if own >= before + 256 * mib and sample[KEY] >= own + 512 * mib:
        print("CHECK PASSED")
    else:
        print("CHECK FAILED")
        sys.exit(1)


if __name__ == "__main__":
    main()

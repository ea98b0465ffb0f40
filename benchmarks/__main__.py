"""Run every benchmark and print its table (`make bench`); `python -m benchmarks NAME` runs one."""

import sys

from benchmarks import (
    api_http,
    api_latency,
    api_national,
    build_time,
    dask_scaling,
    map_size,
    scale,
    validate_large,
)

BENCHMARKS = {
    "build_time": build_time.main,
    "map_size": map_size.main,
    "api_latency": api_latency.main,
    "scale": scale.main,
    "dask_scaling": dask_scaling.main,
    "api_national": api_national.main,
    "api_http": api_http.main,
    "validate_large": validate_large.main,
}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(BENCHMARKS):
        BENCHMARKS[name]()
        print()

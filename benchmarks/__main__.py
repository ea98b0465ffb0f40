"""Run every benchmark and print its table (`make bench`); `python -m benchmarks NAME` runs one."""

import sys

from benchmarks import api_latency, build_time, map_size

BENCHMARKS = {
    "build_time": build_time.main,
    "map_size": map_size.main,
    "api_latency": api_latency.main,
}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(BENCHMARKS):
        BENCHMARKS[name]()
        print()

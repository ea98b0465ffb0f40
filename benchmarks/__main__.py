"""Run every benchmark and print its table (`make bench`)."""

from benchmarks import build_time

if __name__ == "__main__":
    build_time.main()

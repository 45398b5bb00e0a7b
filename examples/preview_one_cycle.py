"""Print a one-cycle lr and momentum curve at a few steps, before any training.

Run: python examples/preview_one_cycle.py --max-lr 0.01 --total-steps 1000
"""

from __future__ import annotations

import argparse

import numpy as np

from lrkit.schedules import one_cycle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-lr", type=float, default=0.01, help="peak lr")
    parser.add_argument("--total-steps", type=int, default=1000, help="run length")
    args = parser.parse_args()

    curves = one_cycle(args.max_lr, args.total_steps)
    steps = np.linspace(0, args.total_steps - 1, 11).round().astype(int)
    lrs = curves["lr"](steps)
    momenta = curves["momentum"](steps)
    print(f"{'step':>6}  {'lr':>12}  {'momentum':>8}")
    for step, lr, momentum in zip(steps, lrs, momenta, strict=True):
        print(f"{step:>6}  {lr:>12.4e}  {momentum:>8.4f}")


if __name__ == "__main__":
    main()

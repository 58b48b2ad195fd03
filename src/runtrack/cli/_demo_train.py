"""The training script of the demo's alpha sweep (written into the demo's source folder).

Kept as a module so it is linted and type-checked; ``runtrack demo`` copies this file's
source into ``<demo>/sweep-src/train.py`` and submits it once per alpha. It needs only
the standard library and runtrack. ``--alpha`` at or above 1.0 diverges and raises on
purpose, so the sweep always holds one Failed run with a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time
import warnings

from runtrack import Run


def _bar(step: int, total: int, loss: float) -> str:
    done = int(30 * step / total)
    return f"\r\x1b[36mtrain\x1b[0m |{'█' * done}{' ' * (30 - done)}| {step}/{total} mse={loss:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description="ridge regression by gradient descent")
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--delay", type=float, default=0.03)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log = logging.getLogger("train")
    run = Run.get_context()
    rng = random.Random(7)
    data = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in range(256)]
    target = [3 * a - 2 * b + rng.gauss(0, 0.3) for a, b in data]
    pairs = list(zip(data, target, strict=True))
    train, valid = pairs[:200], pairs[200:]
    w = [0.0, 0.0]
    rate = 0.1 * (25 if args.alpha >= 1.0 else 1)  # a large alpha diverges on purpose
    run.log("alpha", args.alpha)
    print(f"\x1b[1mridge regression\x1b[0m alpha={args.alpha} steps={args.steps}", flush=True)
    log.info("training on %d points, validating on %d", len(train), len(valid))
    mse = val_mse = 0.0
    for step in range(args.steps):
        grad = [0.0, 0.0]
        mse = 0.0
        for (a, b), y in train:
            err = w[0] * a + w[1] * b - y
            mse += err * err / len(train)
            grad[0] += 2 * err * a / len(train)
            grad[1] += 2 * err * b / len(train)
        w = [w[i] - rate * (grad[i] + 2 * args.alpha * w[i]) for i in range(2)]
        val_mse = sum((w[0] * a + w[1] * b - y) ** 2 for (a, b), y in valid) / len(valid)
        run.log("mse", mse, step=step)
        run.log("val_mse", val_mse, step=step)
        run.log("weight_norm", (w[0] ** 2 + w[1] ** 2) ** 0.5, step=step)
        if step % 5 == 0 or step == args.steps - 1:
            sys.stderr.write(_bar(step + 1, args.steps, mse))
            sys.stderr.flush()
        if mse > 1e6:
            sys.stderr.write("\n")
            log.error("mse exploded to %.3g at step %d", mse, step)
            raise FloatingPointError(
                f"training diverged at step {step}: mse={mse:.3g}; alpha={args.alpha} is too "
                "large for this learning rate"
            )
        time.sleep(args.delay)
    sys.stderr.write("\n")
    if args.alpha > 0.3:
        warnings.warn(f"alpha={args.alpha} shrinks the weights hard: the model underfits",
                      stacklevel=1)
    run.log("final_val_mse", val_mse)
    run.log_row("coefficients", alpha=args.alpha, w1=w[0], w2=w[1])
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/model.txt", "w") as fh:
        fh.write(f"w1={w[0]:.6f}\nw2={w[1]:.6f}\n")
    print(f"\x1b[32mdone\x1b[0m val_mse={val_mse:.4f} w={w[0]:.3f},{w[1]:.3f}", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes examples/acts.f32: 4096 activation-like float32 values (Gaussian, sigma 0.5, plus
one outlier of 8 in every 256 values), little-endian, no header, seed 1. Used by the README's
`trnsim num` examples."""
import random
import struct
import sys

random.seed(1)
vals = [random.gauss(0.0, 0.5) for _ in range(4096)]
for i in range(0, 4096, 256):
    vals[i + 17] = 8.0
out = sys.argv[1] if len(sys.argv) > 1 else "examples/acts.f32"
with open(out, "wb") as f:
    f.write(struct.pack("<%df" % len(vals), *vals))

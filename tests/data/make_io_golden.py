#!/usr/bin/env python3
"""Golden files for tests/test_io_npy.c and tests/test_io_safetensors.c.

Standard library only (NumPy is not needed): the .npy headers are built by the same steps as
numpy/lib/format.py (_write_array_header and _wrap_header, NumPy >= 1.24: keys sorted, repr
of each value, 21 - len(repr(shape[0])) spare spaces, padded with spaces and a newline so the
data starts at a multiple of 64), and the .safetensors file as the reference implementation
lays it out (compact JSON, __metadata__ first, tensors largest element first then by name,
header padded with spaces to a multiple of 8).

Run from the repository root:  python3 tests/data/make_io_golden.py
The C tests rebuild the same arrays from the same formulas, so the values here and there
must change together."""

import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def npy_bytes(descr, shape, data, fortran_order=False):
    d = {"descr": descr, "fortran_order": fortran_order, "shape": shape}
    header = "{"
    for key, value in sorted(d.items()):
        header += "'%s': %s, " % (key, repr(value))
    header += "}"
    if len(shape) > 0:
        header += " " * (21 - len(repr(shape[-1 if fortran_order else 0])))
    header = header.encode("latin1")
    hlen = len(header) + 1
    padlen = 64 - ((6 + 2 + 2 + hlen) % 64)
    prefix = b"\x93NUMPY\x01\x00" + struct.pack("<H", hlen + padlen)
    return prefix + header + b" " * padlen + b"\n" + data


def safetensors_bytes(tensors, metadata):
    """tensors: list of (name, dtype, itemsize, shape, data bytes)."""
    order = sorted(tensors, key=lambda t: (-t[2], t[0]))
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    off = 0
    for name, dtype, _, shape, data in order:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(data)]}
        off += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(t[4] for t in order)


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def main():
    # float32 [2, 3]: x[i] = 0.5 * i - 1 (flat index i), C order.
    write("npy_f32_2x3.npy", npy_bytes("<f4", (2, 3), struct.pack("<6f", *[0.5 * i - 1 for i in range(6)])))
    # int16 scalar -7.
    write("npy_i16_scalar.npy", npy_bytes("<i2", (), struct.pack("<h", -7)))
    # uint8 with shape (0,).
    write("npy_u8_empty.npy", npy_bytes("|u1", (0,), b""))
    # float32 (0, 123456789, 123456789, 123456789, 123456789): an empty array whose 20 spaces
    # of growth room push the data from offset 128 to 192.
    write("npy_f32_growth.npy", npy_bytes("<f4", (0,) + (123456789,) * 4, b""))
    # float64 [2, 3, 4], fortran_order: element (i, j, k) holds its C-order flat index
    # 12 i + 4 j + k, stored column-major (i fastest).
    vals = [float(12 * i + 4 * j + k) for k in range(4) for j in range(3) for i in range(2)]
    write("npy_f64_fortran.npy", npy_bytes("<f8", (2, 3, 4), struct.pack("<24d", *vals), True))

    # A small checkpoint in the shapes GPT-OSS uses for MXFP4 weights (blocks and scales as
    # U8) beside F32, BF16 and a 0-d I64.
    tensors = [
        ("w", "F32", 4, (2, 3), struct.pack("<6f", *[0.5 * i - 1 for i in range(6)])),
        ("b", "BF16", 2, (3,), struct.pack("<3H", *[0x3F80 + i for i in range(3)])),
        ("mlp.blocks", "U8", 1, (2, 4), bytes((17 * i) & 0xFF for i in range(8))),
        ("mlp.scales", "U8", 1, (2,), bytes([127, 128])),
        ("step", "I64", 8, (), struct.pack("<q", -5)),
    ]
    metadata = {"format": "pt", "note": 'tab\there "quoted"'}
    write("st_small.safetensors", safetensors_bytes(tensors, metadata))


if __name__ == "__main__":
    main()

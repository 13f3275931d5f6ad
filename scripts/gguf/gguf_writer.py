"""A minimal GGUF (v3) writer shared by the exporters: metadata key/values, tensor infos, then
the tensor data, each tensor aligned to `general.alignment` (32). The layout follows the
format's documentation (ggml/docs/gguf.md); only numpy is needed (nothing from PyPI)."""
import os
import struct

import numpy as np

ALIGN = 32
# gguf_type of metadata values
U32, I32, F32, BOOL, STRING, ARRAY = 4, 5, 6, 7, 8, 9
# ggml_type of tensors
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
# general.file_type (llama_ftype): all F32, mostly F16, mostly Q8_0
FILE_TYPE = {"f32": 0, "f16": 1, "q8_0": 7}
QK8_0 = 32


def gguf_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = gguf_string(key) + struct.pack("<I", vtype)
    if vtype == ARRAY:
        etype, items = value
        out += struct.pack("<IQ", etype, len(items))
        if etype == STRING:
            out += b"".join(gguf_string(x) for x in items)
        elif etype == I32:
            out += np.asarray(items, dtype="<i4").tobytes()
        elif etype == F32:
            out += np.asarray(items, dtype="<f4").tobytes()
        else:
            raise ValueError(etype)
        return out
    if vtype == STRING:
        return out + gguf_string(value)
    return out + struct.pack({U32: "<I", I32: "<i", F32: "<f", BOOL: "<?"}[vtype], value)


def quantize_q8_0(x):
    """ggml's Q8_0: blocks of 32 values, an f16 scale d = max|x|/127 and int8 round(x/d)."""
    rows = x.reshape(-1, QK8_0).astype(np.float32)
    amax = np.abs(rows).max(axis=1)
    d = amax / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0.0)
    q = np.round(rows * inv[:, None]).astype(np.int8)
    blocks = np.empty(rows.shape[0], dtype=[("d", "<f2"), ("qs", "i1", (QK8_0,))])
    blocks["d"] = d.astype(np.float16)
    blocks["qs"] = q
    return blocks.tobytes()


def encode_tensor(arr, kind):
    """(ggml type, bytes) for one tensor: 1-D tensors (norms, biases) stay f32, as llama.cpp's quantizer leaves them."""
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if arr.ndim == 1 or kind == "f32":
        return GGML_F32, arr.astype("<f4").tobytes()
    if kind == "f16":
        return GGML_F16, arr.astype("<f2").tobytes()
    if arr.shape[-1] % QK8_0:
        return GGML_F16, arr.astype("<f2").tobytes()
    return GGML_Q8_0, quantize_q8_0(arr)


def write_gguf(out, meta, tensors, kind):
    """Write `meta` (encoded key/values) and `tensors` ([(name, numpy array [out, in])]) to `out`, atomically."""
    infos, blobs, offset = [], [], 0
    for tname, arr in tensors:
        gtype, data = encode_tensor(arr, kind)
        dims = list(reversed(arr.shape))  # ggml's ne0 is the innermost (contiguous) axis
        infos.append(gguf_string(tname) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims) + struct.pack("<IQ", gtype, offset))
        pad = (-len(data)) % ALIGN
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)) + b"".join(meta) + b"".join(infos)
    header += b"\0" * ((-len(header)) % ALIGN)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = f"{out}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(header)
        for b in blobs:
            f.write(b)
    os.replace(tmp, out)
    print(f"{out}: {len(tensors)} tensors, {kind}, {os.path.getsize(out)} bytes")

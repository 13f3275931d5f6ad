#!/usr/bin/python3
"""Make weight-only quantized variants of a transformers.js-layout causal LM.

    /usr/bin/python3 scripts/quantize/quantize.py SRC_DIR OUT_DIR [--dtypes q8,q4] [--block-size 32]

SRC_DIR is a model folder in the transformers.js layout (config.json, tokenizer.json, ...,
onnx/model.onnx, fp32 with a KV cache). OUT_DIR is a NEW folder that gets copies of the
config/tokenizer files, onnx/model.onnx (a symlink to the fp32 source, or a copy with --copy-fp32),
and one file per requested dtype, named as transformers.js (and compress-bench's --dtype) expect:

  q8 -> onnx/model_quantized.onnx
        Every 2-D float weight that feeds a MatMul/Gemm (as B) or a Gather (embedding tables,
        including GPT-2's tied wte, which is both the token embedding and -- through a
        Transpose -- the LM head) is stored as int8 with symmetric per-output-channel fp32
        scales (max|w|/127, codes -127..127, no zero point). Channels: the output column of a
        MatMul weight [K, N], the output row of a Gemm weight with transB=1, the row of an
        embedding table [V, E] -- for a tied table that row is both the token's embedding and
        its LM-head output channel, so one int8 table and one scale vector serve both.
        --q8-format dq (default): standard ONNX only (opset 13 DequantizeLinear with `axis`):
          int8 initializer -> DequantizeLinear -> the original MatMul/Gemm; the tied head is
          Transpose(int8 table) -> DequantizeLinear(axis 1) -> MatMul, the embedding lookups
          gather int8 rows and their scales and multiply (no per-call dequantization of the
          whole table). NOTE: onnxruntime's CPU provider fuses every DequantizeLinear -> MatMul
          into com.microsoft MatMulNBits(bits=8, block_size=32, accuracy_level=4), which
          quantizes the *activations* to int8 on the fly: fast (faster than fp32), but the
          numbers are not those of a weight-only model (see docs/dtypes.md).
        --q8-format nbits: the same int8 weights written directly as com.microsoft
          MatMulNBits(bits=8)/GatherBlockQuantized(bits=8) with accuracy_level=--accuracy-level
          (default 0: fp32 compute, i.e. exactly weight-only; onnxruntime 1.30 runs that path
          ~10-20x slower than fp32 on CPU). The per-row scale is repeated for every block
          (block = the largest power of 2 <= 128 dividing K), so it is still per-channel.
  q4 -> onnx/model_q4.onnx
        Block-wise 4-bit, symmetric, `--block-size` (default 32) weights along the reduction
        axis, one fp32 scale per block, via onnxruntime's com.microsoft contrib ops, which the
        CPU provider of onnxruntime(-node) implements (accuracy_level=--accuracy-level,
        default 0: fp32 compute, exactly weight-only, and faster than fp32 on CPU):
          MatMul(x, W[K,N])            -> MatMulNBits(x, W^T packed [N, K/bs, bs/2], scales)
          MatMul(x, Transpose(T[V,E]))  -> MatMulNBits(x, T packed, scales)   (tied LM head)
          Gather(T[V,E], ids)          -> GatherBlockQuantized(T packed, ids, scales)
        A tied table is stored once: the Gather reads the same packed bytes and scales through
        a Reshape of constants, which onnxruntime folds when the session is created.
        4-bit codes are unsigned nibbles with the implicit zero point 8 (value = (q - 8) * s);
        the scale of a block is -m/8 where m is its element of largest magnitude, so m itself
        maps to code 0 exactly and all 16 codes are usable (as onnxruntime's own
        MlasQuantizeBlockwise does).

Biases, layer norms and everything else stay fp32; graph inputs and outputs (input_ids,
attention_mask, position_ids, past_key_values.*, logits, present.*) are unchanged.

Needs only `onnx` and `numpy` (Debian: apt-get install python3-onnx python3-numpy; run with
/usr/bin/python3). --reference additionally writes onnx/reference_{q8,q4}.onnx: the fp32 graph
with every quantized weight replaced by its dequantized value, for scripts/quantize/check.mjs
(not loaded by any --dtype).
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

SIDE_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json',
              'vocab.json', 'merges.txt', 'special_tokens_map.json', 'added_tokens.json']
DTYPE_FILE = {'q8': 'model_quantized.onnx', 'q4': 'model_q4.onnx'}
MS_DOMAIN = 'com.microsoft'


# ----------------------------------------------------------------------------- quantizers

def quant_int8_per_channel(w, axis):
    """Symmetric int8: scale = max|w| / 127 per slice along `axis` (the channel axis)."""
    red = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.abs(w).max(axis=red)
    scale = (amax / 127.0).astype(np.float32)
    scale[scale == 0] = 1.0
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    deq = q.astype(np.float32) * scale.reshape(shape)
    return q, scale, deq


def quant_int4_rows(t, bs):
    """Symmetric block-wise 4-bit along the last axis of t [R, C] (blocks of `bs` within a row).

    Returns packed [R, nb, bs/2] uint8 (element 2j in the low nibble, 2j+1 in the high one),
    scales [R, nb] fp32, and the dequantized [R, C] fp32 (zero point 8)."""
    R, C = t.shape
    nb = -(-C // bs)
    pad = nb * bs - C
    tp = np.pad(t, ((0, 0), (0, pad))) if pad else t
    blocks = tp.reshape(R, nb, bs).astype(np.float32)
    idx = np.abs(blocks).argmax(axis=2)
    m = np.take_along_axis(blocks, idx[..., None], axis=2)[..., 0]  # signed element of largest magnitude
    scale = (m / -8.0).astype(np.float32)
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(blocks / scale[..., None]), -8, 7).astype(np.int16) + 8  # 0..15
    q = q.astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    deq = ((q.astype(np.float32) - 8.0) * scale[..., None]).reshape(R, nb * bs)[:, :C]
    return packed, scale, deq


# ----------------------------------------------------------------------------- graph helpers

class Graph:
    def __init__(self, model):
        self.model = model
        self.g = model.graph
        self.inits = {i.name: i for i in self.g.initializer}
        self.refresh()

    def refresh(self):
        self.consumers = {}
        self.producer = {}
        for n in self.g.node:
            for k, x in enumerate(n.input):
                self.consumers.setdefault(x, []).append((n, k))
            for y in n.output:
                self.producer[y] = n

    def array(self, name):
        return numpy_helper.to_array(self.inits[name])

    def replace_init(self, name, *new):
        """Drop initializer `name`; add the given TensorProtos."""
        old = self.inits.pop(name)
        self.g.initializer.remove(old)
        for t in new:
            self.g.initializer.append(t)
            self.inits[t.name] = t
        for i in list(self.g.input):  # old exporters list initializers as inputs too
            if i.name == name:
                self.g.input.remove(i)

    def add_init(self, t):
        self.g.initializer.append(t)
        self.inits[t.name] = t

    def ensure_opset(self, domain, version):
        for o in self.model.opset_import:
            if o.domain == domain:
                if o.version < version:
                    o.version = version
                return
        self.model.opset_import.append(helper.make_opsetid(domain, version))


def float_weight_uses(G):
    """Classify every 2-D fp32 initializer by how it is consumed.

    Returns {name: [(kind, node, extra)]}, kind in
      'matmul'   : MatMul input 1                       (channel axis 1, reduction axis 0)
      'gemm'     : Gemm input 1, extra = transB          (channel axis 0 if transB else 1)
      'gather'   : Gather input 0 with axis 0            (row = channel)
      'tmatmul'  : Transpose(perm [1,0]) -> MatMul input 1, extra = (transpose, matmul): a tied head
    Initializers with any other consumer are left alone."""
    out = {}
    for name, t in G.inits.items():
        if t.data_type != TensorProto.FLOAT or len(t.dims) != 2:
            continue
        uses, ok = [], True
        for n, k in G.consumers.get(name, []):
            if n.op_type == 'MatMul' and k == 1:
                uses.append(('matmul', n, None))
            elif n.op_type == 'Gemm' and k == 1:
                a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
                uses.append(('gemm', n, int(a.get('transB', 0))))
            elif n.op_type == 'Gather' and k == 0:
                a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
                if int(a.get('axis', 0)) != 0:
                    ok = False
                uses.append(('gather', n, None))
            elif n.op_type == 'Transpose':
                a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
                cons = G.consumers.get(n.output[0], [])
                if list(a.get('perm', [1, 0])) == [1, 0] and cons and all(c.op_type == 'MatMul' and j == 1 for c, j in cons):
                    for c, _ in cons:
                        uses.append(('tmatmul', c, n))
                else:
                    ok = False
            else:
                ok = False
        if ok and uses:
            out[name] = uses
    return out


# ----------------------------------------------------------------------------- q8, dq format

def make_q8_dq(model, min_elems, log):
    """Standard ONNX only: int8 initializers + DequantizeLinear (opset 13, per-axis scales)."""
    G = Graph(model)
    uses = float_weight_uses(G)
    ref = {}
    G.ensure_opset('', 13)  # DequantizeLinear with `axis`
    front = []
    for name, us in sorted(uses.items()):
        w = G.array(name)
        if w.size < min_elems:
            continue
        kinds = {k for k, _, _ in us}
        gemm_t = {e for k, _, e in us if k == 'gemm'}
        # Channel axis: the output channel for every consumer, when they agree.
        if kinds <= {'matmul'} or (kinds <= {'matmul', 'gemm'} and gemm_t <= {0}):
            axis = 1
        elif kinds <= {'gather', 'tmatmul'} or (kinds <= {'gemm', 'gather', 'tmatmul'} and gemm_t <= {1}):
            axis = 0
        else:
            log(f'  q8: skip {name} (consumers disagree on the channel axis: {sorted(kinds)})')
            continue
        q, scale, deq = quant_int8_per_channel(w, axis)
        ref[name] = deq
        qn, sn = name + '_quantized', name + '_scale'
        G.replace_init(name, numpy_helper.from_array(q, qn), numpy_helper.from_array(scale, sn))
        if kinds & {'gather', 'tmatmul'}:
            # A table [V, E] with one scale per row. Dequantizing all of it on every call would
            # cost more than the model (onnxruntime does not constant-fold DequantizeLinear), so:
            #  - LM head: Transpose the int8 table (a foldable constant) and dequantize along the
            #    new axis 1 -> DequantizeLinear -> MatMul, which onnxruntime fuses;
            #  - embedding: gather int8 rows and their scales, then Cast * scale (bitwise what
            #    DequantizeLinear computes, on the gathered rows only).
            done = set()
            for kind, n, extra in us:
                if kind == 'tmatmul' and extra.name not in done:  # one Transpose may feed several MatMuls
                    done.add(extra.name)
                    qt = qn + '_T'
                    front.append(helper.make_node('Transpose', [qn], [qt], name=qt + '_Transpose', perm=[1, 0]))
                    front.append(helper.make_node('DequantizeLinear', [qt, sn], [extra.output[0]], name=qt + '_DequantizeLinear', axis=1))
                    G.g.node.remove(extra)
                elif kind == 'gather':
                    # The rows' scales as [V, 1] for broadcasting: a Reshape of constants, folded by
                    # onnxruntime at load (the LM head's DequantizeLinear must be the only reader of
                    # its scale initializer, or onnxruntime does not fuse it with the MatMul).
                    s2, shp = sn + '_col', name + '_col_shape'
                    if shp not in G.inits:
                        G.add_init(numpy_helper.from_array(np.array([-1, 1], np.int64), shp))
                        front.append(helper.make_node('Reshape', [sn, shp], [s2], name=s2 + '_Reshape'))
                    o = n.output[0]
                    pos = list(G.g.node).index(n)
                    G.g.node.remove(n)
                    for j, nd in enumerate([
                        helper.make_node('Gather', [qn, n.input[1]], [o + '_q'], name=n.name + '_q', axis=0),
                        helper.make_node('Cast', [o + '_q'], [o + '_f'], name=n.name + '_Cast', to=TensorProto.FLOAT),
                        helper.make_node('Gather', [s2, n.input[1]], [o + '_s'], name=n.name + '_scale', axis=0),
                        helper.make_node('Mul', [o + '_f', o + '_s'], [o], name=n.name + '_Dequantize'),
                    ]):
                        G.g.node.insert(pos + j, nd)
                elif kind == 'gemm':
                    front.append(helper.make_node('DequantizeLinear', [qn, sn], [name], name=name + '_DequantizeLinear', axis=axis))
        else:
            # DequantizeLinear's output takes the original name: consumers need no change.
            front.append(helper.make_node('DequantizeLinear', [qn, sn], [name], name=name + '_DequantizeLinear', axis=axis))
        err = np.abs(deq - w).max()
        log(f'  q8: {name} {list(w.shape)} axis={axis} via {"+".join(sorted(kinds))}  max|err|={err:.3g}')
    # The new nodes read only initializers: put them first (keeps topological order).
    nodes = list(G.g.node)
    del G.g.node[:]
    G.g.node.extend(front + nodes)
    return ref


# ----------------------------------------------------------------------------- MatMulNBits format (q8, q4)

def pow2_block(c, cap=128):
    """Largest power of 2 dividing c, within [16, cap] (16 with padding when none does)."""
    b = 16
    while b * 2 <= cap and c % (b * 2) == 0:
        b *= 2
    return b


def quant_rows_nbits(t, bits, bs):
    """Rows of t [R, C] -> (packed uint8 [R, nb, bs*bits/8], scales [R, nb], dequantized [R, C]).

    bits=8: one symmetric scale per row (max|row|/127, codes -127..127 stored + 128), repeated
            for every block of the row: exactly per-channel int8.
    bits=4: one symmetric scale per block of bs (see quant_int4_rows)."""
    if bits == 4:
        return quant_int4_rows(t, bs)
    R, C = t.shape
    nb = -(-C // bs)
    q, scale, deq = quant_int8_per_channel(t, 0)
    qp = np.pad(q, ((0, 0), (0, nb * bs - C))) if nb * bs != C else q
    packed = (qp.astype(np.int16) + 128).astype(np.uint8).reshape(R, nb, bs)
    return packed, np.repeat(scale[:, None], nb, axis=1), deq


def make_nbits(model, bits, bs, acc, min_elems, log):
    """MatMul -> com.microsoft MatMulNBits; Gather on a table -> com.microsoft GatherBlockQuantized.
    bs=None: per-channel (q8), blocks of pow2_block(K) sharing the row's scale."""
    tag = f'q{bits}'
    if bs is not None and (bs < 16 or bs & (bs - 1)):
        raise SystemExit('--block-size must be a power of 2, >= 16 (MatMulNBits)')
    G = Graph(model)
    uses = float_weight_uses(G)
    ref = {}
    G.ensure_opset(MS_DOMAIN, 1)
    remove = []
    for name, us in sorted(uses.items()):
        w = G.array(name)
        if w.size < min_elems:
            continue
        kinds = {k for k, _, _ in us}
        if 'gemm' in kinds:
            log(f'  {tag}: skip {name} (Gemm consumer: not handled)')
            continue
        if 'matmul' in kinds and kinds & {'gather', 'tmatmul'}:
            log(f'  {tag}: skip {name} (used both as W and as W^T)')
            continue
        # Rows of T are the quantized/packed rows: T = W^T for MatMul(x, W); T = W for tables.
        T = w.T if kinds == {'matmul'} else w
        R, C = T.shape
        b = bs or pow2_block(C)
        if 'gather' in kinds and C % b:
            log(f'  {tag}: skip {name} (table width {C} is not a multiple of the block size {b})')
            continue
        packed, scale, deq_t = quant_rows_nbits(T, bits, b)
        nb = packed.shape[1]
        ref[name] = deq_t.T.copy() if kinds == {'matmul'} else deq_t
        pn, sn = name + f'_{tag}', name + f'_{tag}_scales'
        G.replace_init(name, numpy_helper.from_array(packed, pn), numpy_helper.from_array(scale.reshape(-1), sn))
        gather_inputs = None
        for kind, n, extra in us:
            if kind in ('matmul', 'tmatmul'):
                mm = helper.make_node('MatMulNBits', [n.input[0], pn, sn], list(n.output), name=n.name + '_' + tag,
                                      domain=MS_DOMAIN, K=C, N=R, bits=bits, block_size=b, accuracy_level=acc)
                pos = list(G.g.node).index(n)
                G.g.node.remove(n)
                G.g.node.insert(pos, mm)
                if kind == 'tmatmul':
                    remove.append(extra)
            elif kind == 'gather':
                if gather_inputs is None:
                    # GatherBlockQuantized wants data [R, C*bits/8] and scales [R, nb]: the same bytes,
                    # reshaped (onnxruntime folds a Reshape of constants when the session is created).
                    d2, s2 = pn + '_rows', sn + '_rows'
                    G.add_init(numpy_helper.from_array(np.array([R, C * bits // 8], np.int64), d2 + '_shape'))
                    G.add_init(numpy_helper.from_array(np.array([R, nb], np.int64), s2 + '_shape'))
                    G.g.node.insert(0, helper.make_node('Reshape', [pn, d2 + '_shape'], [d2], name=d2 + '_Reshape'))
                    G.g.node.insert(0, helper.make_node('Reshape', [sn, s2 + '_shape'], [s2], name=s2 + '_Reshape'))
                    gather_inputs = (d2, s2)
                gq = helper.make_node('GatherBlockQuantized', [gather_inputs[0], n.input[1], gather_inputs[1]], list(n.output),
                                      name=n.name + '_' + tag, domain=MS_DOMAIN, bits=bits, block_size=b,
                                      gather_axis=0, quantize_axis=1)
                pos = list(G.g.node).index(n)
                G.g.node.remove(n)
                G.g.node.insert(pos, gq)
        for t in remove:
            if t in G.g.node:
                G.g.node.remove(t)
        err = np.abs(ref[name] - w).max()
        log(f'  {tag}: {name} {list(w.shape)} rows={R} block={b} blocks/row={nb} via {"+".join(sorted(kinds))}  max|err|={err:.3g}')
    return ref


# ----------------------------------------------------------------------------- driver

def reference_model(src_model_path, ref):
    m = onnx.load(src_model_path)
    for t in m.graph.initializer:
        if t.name in ref:
            t.CopyFrom(numpy_helper.from_array(ref[t.name].astype(np.float32), t.name))
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('src', help='model folder (transformers.js layout, onnx/model.onnx fp32)')
    ap.add_argument('out', help='output folder (created; must not be the source)')
    ap.add_argument('--dtypes', default='q8,q4', help='comma-separated: q8, q4 (default: both)')
    ap.add_argument('--block-size', type=int, default=32, help='q4 block size along the reduction axis (default 32)')
    ap.add_argument('--q8-format', choices=['dq', 'nbits'], default='dq',
                    help='q8 graph: dq = standard ONNX DequantizeLinear (default; onnxruntime CPU fuses it into '
                         'MatMulNBits with accuracy_level 4, i.e. int8 activations); nbits = com.microsoft '
                         'MatMulNBits/GatherBlockQuantized written directly, with --accuracy-level')
    ap.add_argument('--accuracy-level', type=int, default=0, choices=[0, 1, 2, 3, 4],
                    help='accuracy_level of the MatMulNBits this script writes (q4, and q8 with --q8-format nbits): '
                         '0 = fp32 compute, exactly weight-only (default); 4 = int8 activations')
    ap.add_argument('--min-elements', type=int, default=1024, help='leave smaller weight matrices fp32 (default 1024)')
    ap.add_argument('--copy-fp32', action='store_true', help='copy onnx/model.onnx instead of symlinking it')
    ap.add_argument('--reference', action='store_true', help='also write onnx/reference_<dtype>.onnx (fp32, dequantized weights) for check.mjs')
    ap.add_argument('--force', action='store_true', help='overwrite existing quantized files in OUT')
    ap.add_argument('--quiet', action='store_true')
    a = ap.parse_args()
    log = (lambda *x: None) if a.quiet else (lambda *x: print(*x, file=sys.stderr))

    src, out = os.path.abspath(a.src), os.path.abspath(a.out)
    src_onnx = os.path.join(src, 'onnx', 'model.onnx')
    if not os.path.isfile(src_onnx):
        raise SystemExit(f'{src_onnx} not found: expected a transformers.js-layout folder with fp32 onnx/model.onnx')
    if os.path.exists(os.path.join(src, 'onnx', 'model.onnx_data')):
        raise SystemExit('external-data models (model.onnx_data) are not supported')
    if os.path.realpath(out) == os.path.realpath(src):
        raise SystemExit('OUT must be a new folder, not the source')
    dtypes = [d.strip() for d in a.dtypes.split(',') if d.strip()]
    for d in dtypes:
        if d not in DTYPE_FILE:
            raise SystemExit(f'unknown dtype {d}: expected {", ".join(DTYPE_FILE)}')

    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    for f in SIDE_FILES:
        if os.path.isfile(os.path.join(src, f)):
            shutil.copyfile(os.path.join(src, f), os.path.join(out, f))
    fp32 = os.path.join(out, 'onnx', 'model.onnx')
    if os.path.lexists(fp32):
        os.remove(fp32)
    if a.copy_fp32:
        shutil.copyfile(src_onnx, fp32)
    else:
        os.symlink(src_onnx, fp32)

    sizes = {'fp32': os.path.getsize(src_onnx)}
    for d in dtypes:
        dst = os.path.join(out, 'onnx', DTYPE_FILE[d])
        if os.path.exists(dst) and not a.force:
            raise SystemExit(f'{dst} exists (use --force to overwrite)')
        t0 = time.time()
        model = onnx.load(src_onnx)
        log(f'{d}: quantizing {src_onnx}')
        if d == 'q8' and a.q8_format == 'dq':
            ref = make_q8_dq(model, a.min_elements, log)
        elif d == 'q8':
            ref = make_nbits(model, 8, None, a.accuracy_level, a.min_elements, log)
        else:
            ref = make_nbits(model, 4, a.block_size, a.accuracy_level, a.min_elements, log)
        model.producer_name = 'compress-bench scripts/quantize/quantize.py'
        model.doc_string = (f'{d} weight-only quantization of {os.path.basename(src)}: '
                            + (f'4-bit, symmetric, blocks of {a.block_size}' if d == 'q4'
                               else f'int8, per-channel, symmetric ({a.q8_format} format)')
                            + f'; scripts/quantize/quantize.py --block-size {a.block_size} --q8-format {a.q8_format}'
                            f' --accuracy-level {a.accuracy_level} --min-elements {a.min_elements}')
        # (No paths in the file: the same source and options give the same bytes and SHA-256.)
        onnx.save(model, dst)
        sizes[d] = os.path.getsize(dst)
        log(f'{d}: wrote {dst} ({sizes[d]:,} bytes, {time.time() - t0:.1f} s)')
        if a.reference:
            rp = os.path.join(out, 'onnx', f'reference_{d}.onnx')
            onnx.save(reference_model(src_onnx, ref), rp)
            log(f'{d}: wrote {rp} (fp32, dequantized weights)')
    meta = {'source': src, 'block_size': a.block_size, 'min_elements': a.min_elements, 'q8_format': a.q8_format,
            'accuracy_level': a.accuracy_level,
            'files': {d: ('onnx/model.onnx' if d == 'fp32' else 'onnx/' + DTYPE_FILE[d]) for d in sizes},
            'bytes': sizes}
    with open(os.path.join(out, 'quantize.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    print(json.dumps(sizes))


if __name__ == '__main__':
    main()

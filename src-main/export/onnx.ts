/**
 * Export of a calibrated static subnet as an ONNX model (opset 13, IR version 7), encoded with protobufjs from the
 * subset of `onnx.proto` it needs (field numbers as in onnx/onnx `onnx/onnx.proto`).
 *
 * Layout is NCHW (ONNX's convention): the input is [N, C, H, W] at the subnet's resolution (N symbolic), the output
 * [N, classes] logits. Weights are transposed from the engine's HWIO to OIHW ([C,1,k,k] for depthwise, group = C).
 *   conv + BN      → Conv (pads k//2 on every side, BN folded into weights and bias)
 *   swish          → Sigmoid, Mul
 *   SE             → GlobalAveragePool → Conv 1×1 (+bias) → Relu → Conv 1×1 (+bias) → HardSigmoid(α = 1/6, β = 0.5)
 *                    → Mul (broadcast over H, W). HardSigmoid(z) = max(0, min(1, z/6 + 1/2)) = relu6(z + 3)/6.
 *   shortcut pool  → AveragePool 2×2/2, pads 1 when the input is odd, count_include_pad = 1
 *   residual       → Add
 *   head           → Conv 1×1 → swish → GlobalAveragePool → Flatten → Gemm (no bias) → swish → Gemm (+bias)
 */
import protobuf from 'protobufjs';
import type { FoldedConv, FoldedDense, FoldedSubnet } from './folded';

/** The part of onnx.proto (proto2) used here. */
const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  repeated float floats = 7;
  repeated int64 ints = 8;
  optional AttributeType type = 20;
}
message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}
message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}
`;

export const ONNX_OPSET = 13;
/** IR version 7 is the one that introduced opset 13. */
export const ONNX_IR_VERSION = 7;
const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;

let modelType: protobuf.Type | undefined;
function onnxModelType(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

type Attr = { name: string; type: number; i?: number; f?: number; ints?: number[] };
const ints = (name: string, v: number[]): Attr => ({ name, type: ATTR.INTS, ints: v });
const int = (name: string, v: number): Attr => ({ name, type: ATTR.INT, i: v });
const float = (name: string, v: number): Attr => ({ name, type: ATTR.FLOAT, f: v });

/** HWIO [k,k,Cin,Cout] → OIHW [Cout,Cin,k,k]. */
function hwioToOihw(w: Float32Array, k: number, cIn: number, cOut: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++)
      for (let i = 0; i < cIn; i++)
        for (let o = 0; o < cOut; o++) out[((o * cIn + i) * k + y) * k + x] = w[((y * k + x) * cIn + i) * cOut + o];
  return out;
}

export interface OnnxExportOptions {
  /** Stored as metadata_props (string values). */
  metadata?: Record<string, string>;
  producerVersion?: string;
  docString?: string;
}

/** Serialises the folded subnet to ONNX protobuf bytes. */
export function buildOnnxModel(f: FoldedSubnet, opts: OnnxExportOptions = {}): Uint8Array {
  const nodes: object[] = [];
  const inits: object[] = [];
  let counter = 0;
  const tmp = (base: string) => `${base}_${counter++}`;
  const init = (name: string, dims: number[], data: Float32Array) => {
    inits.push({ name, dims, data_type: FLOAT, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
    return name;
  };
  const node = (op: string, inputs: string[], name: string, attrs: Attr[] = []): string => {
    const out = tmp(name);
    nodes.push({ op_type: op, input: inputs, output: [out], name: out, attribute: attrs });
    return out;
  };

  const conv = (x: string, c: FoldedConv, name: string): string => {
    const w =
      c.kind === 'depthwise'
        ? // Depthwise [k,k,C,1] read as HWIO with Cin = C, Cout = 1: its OIHW [1,C,k,k] has the bytes of [C,1,k,k].
          init(`${name}.weight`, [c.cOut, 1, c.k, c.k], hwioToOihw(c.w, c.k, c.cOut, 1))
        : init(`${name}.weight`, [c.cOut, c.cIn, c.k, c.k], hwioToOihw(c.w, c.k, c.cIn, c.cOut));
    const inputs = [x, w];
    if (c.b) inputs.push(init(`${name}.bias`, [c.cOut], c.b));
    const p = c.k >> 1;
    return node('Conv', inputs, name, [
      ints('kernel_shape', [c.k, c.k]),
      ints('strides', [c.stride, c.stride]),
      ints('pads', [p, p, p, p]),
      int('group', c.kind === 'depthwise' ? c.cOut : 1),
    ]);
  };
  /** A dense layer applied to an [N,C,1,1] map as a 1×1 conv (no Flatten/Reshape round trip inside SE). */
  const conv1x1Dense = (x: string, d: FoldedDense, name: string) =>
    conv(x, { kind: 'pointwise', k: 1, stride: 1, cIn: d.cIn, cOut: d.cOut, w: d.w, b: d.b }, name);
  const gemm = (x: string, d: FoldedDense, name: string): string => {
    const inputs = [x, init(`${name}.weight`, [d.cIn, d.cOut], d.w)];
    if (d.b) inputs.push(init(`${name}.bias`, [d.cOut], d.b));
    return node('Gemm', inputs, name);
  };
  const swish = (x: string, name: string) => node('Mul', [x, node('Sigmoid', [x], `${name}_sigmoid`)], `${name}_swish`);

  let h = swish(conv('input', f.first, 'first_conv'), 'first');
  f.blocks.forEach((b, i) => {
    const p = `block${i}`;
    const x = h;
    if (b.expand) h = swish(conv(h, b.expand, `${p}_expand`), `${p}_expand`);
    h = swish(conv(h, b.dw, `${p}_dw`), `${p}_dw`);
    if (b.se) {
      let s = node('GlobalAveragePool', [h], `${p}_se_pool`);
      s = node('Relu', [conv1x1Dense(s, b.se.reduce, `${p}_se_reduce`)], `${p}_se_relu`);
      s = node('HardSigmoid', [conv1x1Dense(s, b.se.expand, `${p}_se_expand`)], `${p}_se_hsigmoid`, [float('alpha', 1 / 6), float('beta', 0.5)]);
      h = node('Mul', [h, s], `${p}_se_mul`);
    }
    h = conv(h, b.project, `${p}_project`);
    let sc = x;
    if (b.shortcutPool) {
      const q = b.shortcutPoolPad ? 1 : 0;
      sc = node('AveragePool', [sc], `${p}_shortcut_pool`, [ints('kernel_shape', [2, 2]), ints('strides', [2, 2]), ints('pads', [q, q, q, q]), int('count_include_pad', 1)]);
    }
    if (b.shortcut) sc = conv(sc, b.shortcut, `${p}_shortcut`);
    h = node('Add', [h, sc], `${p}_add`);
  });
  h = swish(conv(h, f.head.expand, 'head_expand'), 'head_expand');
  let v = node('Flatten', [node('GlobalAveragePool', [h], 'head_pool')], 'head_flatten', [int('axis', 1)]);
  v = swish(gemm(v, f.head.mix, 'head_mix'), 'head_mix');
  v = gemm(v, f.head.classifier, 'classifier');
  // Name the graph output 'logits' with an Identity (node outputs are auto-named).
  nodes.push({ op_type: 'Identity', input: [v], output: ['logits'], name: 'logits' });

  const tensorType = (dims: (number | string)[]) => ({
    tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } },
  });
  const model = {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'AlphaNet Workbench',
    producer_version: opts.producerVersion ?? '',
    doc_string: opts.docString ?? '',
    graph: {
      name: 'alphanet_subnet',
      node: nodes,
      initializer: inits,
      input: [{ name: 'input', type: tensorType(['N', f.inputChannels, f.resolution, f.resolution]) }],
      output: [{ name: 'logits', type: tensorType(['N', f.numClasses]) }],
    },
    metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  const T = onnxModelType();
  const err = T.verify(model);
  if (err) throw new Error(`internal error building the ONNX model: ${err}`);
  return T.encode(T.fromObject(model)).finish();
}

/** Decodes ONNX bytes to a plain object (tests and debugging). */
export function decodeOnnxModel(bytes: Uint8Array): Record<string, unknown> {
  const T = onnxModelType();
  return T.toObject(T.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as Record<string, unknown>;
}

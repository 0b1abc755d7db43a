/** A float tensor ready for an ONNX session, kept free of onnxruntime so crops stay pure. */
export interface ModelInput {
  data: Float32Array;
  dims: number[];
}

/** Integer face box as the upstream Python code sees it after `int()` truncation. */
export interface IntBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function truncateBox(box: { x: number; y: number; w: number; h: number }): IntBox {
  return { x: Math.trunc(box.x), y: Math.trunc(box.y), w: Math.trunc(box.w), h: Math.trunc(box.h) };
}

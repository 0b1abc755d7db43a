// Frozen copy of the pixel conversion in prepare() of src/face/detect.ts at 4973316, before the
// speed work: the reference that test/face/fastCrops.test.ts compares writeDetectorInput with.
// Do not optimise it.
export function writeDetectorInput(raw: Uint8Array, rawW: number, rawH: number, padW: number, padH: number, data: Float32Array): void {
  const borderColour = { r: 127, g: 127, b: 127 };
  const plane = padW * padH;
  if (rawW < padW || rawH < padH) data.fill(borderColour.r);
  const bPlane = data.subarray(0, plane), gPlane = data.subarray(plane, 2 * plane), rPlane = data.subarray(2 * plane);
  for (let y = 0; y < rawH; y++) {
    let i = y * padW, j = 3 * y * rawW;
    for (const end = i + rawW; i < end; i++, j += 3) {
      rPlane[i] = raw[j];
      gPlane[i] = raw[j + 1];
      bPlane[i] = raw[j + 2];
    }
  }
}

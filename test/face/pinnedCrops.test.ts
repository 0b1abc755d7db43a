/**
 * The model inputs of every crop path (Silent-Face scale crop, facenox reflect + area/Lanczos,
 * HyperFAS clipped bilinear), the 112×112 alignment warp (k = 1…4 sub-samples, border samples)
 * and the embedding of one aligned face (the recognizer's normalisation table) are pinned to the bytes the code produced before the speed work (main at 350b1da): the faster
 * resize and warp must stay bit-identical, because the liveness threshold and the match threshold
 * were chosen on those outputs. Fixed boxes and landmarks, so a detector change does not move them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { alignFace } from '../../src/face/align.ts';
import { decodeImage } from '../../src/face/decode.ts';
import { createRecognizer } from '../../src/face/embed.ts';
import { livenessModelSpecs } from '../../src/face/liveness/livenessModels.ts';
import type { Point } from '../../src/face/types.ts';
import { FACES_DIR } from '../support/shared.ts';

const sha = (a: ArrayBufferView) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 16);
const image = (file: string) => decodeImage(new Uint8Array(readFileSync(`${FACES_DIR}/${file}`)));
const models = ['2.7_80x80_MobileFaceNetPv4.onnx', 'facenox_98.20_128.onnx', 'hyperfas_224.onnx'];

const cases: Array<{ file: string; what: string; box: { x: number; y: number; w: number; h: number }; inputs: string[] }> = [
  {
    file: 'pad/silentface/image_T1.jpg',
    what: 'detected face (area shrink)',
    box: { x: 119.13057830495103, y: 113.48543909782995, w: 169.56630463277372, h: 239.9135097743108 },
    inputs: ['4f836d56a2db3f44', '8c126e63648729ea', 'b6e263e4a3b5d1ef'],
  },
  { file: 'pad/silentface/image_T1.jpg', what: 'small face near the corner (Lanczos enlarge, reflection)', box: { x: 400, y: 560, w: 60, h: 70 }, inputs: ['750b283dde4fe1dc', '6848464028739188', '04f74ec40359225e'] },
  { file: 'pad/silentface/image_T1.jpg', what: 'large face at the top-left edge (shifted and clipped crops)', box: { x: 2.5, y: 3.5, w: 300, h: 420 }, inputs: ['67ae0b684441084a', '93da3069fb833d6f', 'b8407c49e3755c33'] },
  {
    file: 'openface/eric_clapton_1.jpg',
    what: 'face touching the top edge',
    box: { x: 140.60893090604134, y: 6.076015616502044, w: 272.56383577906314, h: 382.892087521065 },
    inputs: ['510afcd24c702a03', 'b1ab5b1fdb88a0a6', '4b8568eedd431532'],
  },
];

for (const c of cases) {
  test(`liveness model inputs are unchanged: ${c.file}, ${c.what}`, async () => {
    const img = await image(c.file);
    assert.deepEqual(models.map((m) => sha(livenessModelSpecs[m].input(img, c.box).data)), c.inputs);
  });
}

const landmarks: Point[] = [[188.66357040405273, 207.36196899414062], [261.96788787841797, 226.63626217842102], [225.59812474250793, 265.33655548095703], [170.5387191772461, 288.37329864501953], [233.29286575317383, 306.08130645751953]];

test('aligned faces are unchanged for 1 to 4 sub-samples per pixel and across the border', async () => {
  const img = await image('pad/silentface/image_T1.jpg');
  const at = (s: number) => sha(alignFace(img, landmarks.map(([x, y]): Point => [x * s, y * s])).data);
  assert.deepEqual([at(1), at(0.5), at(0.3), at(2)], ['1a1a56202b23b2dd', '7a9a053a923034c4', 'fdd8eb5489be7b68', '04b5b34c165ca905']);
});

test('the embedding of an aligned face is unchanged (face and mirror image, normalised by table)', async () => {
  const embedding = await (await createRecognizer()).embed(alignFace(await image('pad/silentface/image_T1.jpg'), landmarks));
  assert.equal(sha(embedding), 'd253cf0b84290450');
});

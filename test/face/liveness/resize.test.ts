import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RgbImage } from '../../../src/face/types.ts';
import { rectWindow, resizeArea, resizeLanczos4, resizeLinear } from '../../../src/face/liveness/resize.ts';

/** Deterministic high-frequency test pattern, the same formula as the Python that produced the references. */
function pattern(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (x * 37 + y * 91 + c * 53 + ((x * y) % 7) * 11) % 256;
    }
  }
  return { data, width, height };
}

// cv2.resize(pattern, (dw, dh), interpolation=…).tobytes().hex() from OpenCV 4.6.0 (Debian python3-opencv).
const opencvReferences: Array<[number, number, number, number, 'linear' | 'lanczos4' | 'area', string]> = [
  [13, 9, 5, 7, 'linear', '2c619681a0d5d0295e4e83a28dc21cac89a8805d929d659997a17e4176ab7570969a864d4d396e829a61bb396eade24a14497e6ba0d5c2f72c295e9351879781995989be3c4e838cb4a01e8abf7faa5c4f386ea3ade2446f366b414a617f9e7be23b703d7282919a20'],
  [9, 7, 16, 11, 'linear', '00356a0d427721568b366ba04b80b56095ca75aadf89bef39ed3c0b3e845c89532dd1a4769275c063b701b5085285d92295e93386da24f84b9679c9a7eb07496868c9c6ea47286bb699eab80b575989476af5d8e6a5e9330659a487db2568bc06398b674a1c790afe2a0c991afdd31cb764cc1326756497e2e6398497fb36591c6819fd4739dc66b9dbd86acd997b5ea9dd24db0a560d05c80986a7f558779748098807aaf597aaf558abf74a9de947db2b33469aa885aa5c955c58075d853887aaf418f8c57b3547a8a6972568b636a9f777aa18782748f90689da47bb09d588d8c2055836c4b83a84aa6706dbc4e8311467b295e935085ba78ad6a9dd20799ce03a1ae0bc84532da0f44d60b4089265b214e83174c811b50854277ac5a8fc44b80b5659a9791c667a5da40b0e51f70a53b466d535648636c4378875f947472a75082b74e83b8558ab080b57f9bd06285baa98abf8691c64c96cb4696cb4c51866f23588233686b4d817170a5947db2a180b5a584b9a989bea291c66996cb46bff4408ec3573e737d376c8a3f74923e729e4a7f8f79ae3c97cc18a2d724abe02db3e834bbf03cb4e94965996f3469876da263679c845c91bb64998d70a54f7cb15a8dac59ad7d37c36c2cce7838a183445f8f50669b5c6ea36f6499a65e93c722578c457aaf7fb4e995ca87a4d90eb2e71cc1ce2bcf4d39de1348ed2257943065123f74194e832e6498689dd38cc1f6'],
  [12, 10, 6, 5, 'linear', '4378ad988d826da2976f649970a59a857a6f84796e72a75ca65b906d6257877c718f847985ba6f52877c72a75c98cd8278ad62457a6f73a89dc5ba2f84396e4378ada8dd52a75c5160558a8b807590853a94497e598e83b1665b'],
  [9, 7, 20, 13, 'lanczos4', '002f5701345b113e67234a822f55aa366ac9418ed354b1e575bcff97c8ffa6f3e2b0ff63d3e708ff6307eb00317d004f0b2b5a005169134f7b3247820a3c8b10489c2065b6388cba56aba077ae7f959877a07d959375c87c8be06fb2b67cca66a4ba3bc68556b34d86643398173f960761a12981b8438fc43f74b9477cda5c97ff74ccf08efd8eb9f32ceb9d18f53a44b21b764f3f8a1b678931768a64889f82a5c779ace25c90db467acc4e8dd76ab7f37bd0ff90db86a7c29ccc99bbce93b3a4b67b8cc34cac8e58c641829225932f4691007fad1aa3e25d9efc8e83e2a07fb39da6949cd091aecaa2cba1b6dc87c0abff25cdd230fe6e48ed28628c3177356591358db96392d26f7ec7517ab943a7d560dbff93b2f9bd3a9fce0c3cc57316bdeb27cfd647ef5b5cff0e6562b2107a902e9b51659b258a6d2f833e6d6d3fb96b69da7a93b582b07484c6618ed17796c76685a71f598405286e4e0e6ea01b83944a9b477ca715940c416b184d8d346dbe5f92bb88b16b9dd00b9ae70095d900a29421c63640ee0045f3003cc21645683f69185086004b830e477c355e935383b86098cd113fdd2562d157adad9efa6dd7ff23deff00ace10069970c474b3958135a84006f9f0f818e3e9a5771bc197bdf005bef154ee14e82b686d888a0ff7277ade082b6b59ccd5fc0ef19d3ff0eb9ee366ea36b1c5189002e8600447a27758a4e9db66bb1d37ab2ce79a8cb74a3dc7bb0d696cb95b4e53dc4f210d8ff6cbaed5f83ad4d5c854759895c578c8c386abf1448c9165e953aa24d5bdf326ff84f83f26ea2e66bc5ed5edcff61d3ff69a6dc60719d4e567c45c7fc1e9fd5405189821950ab184da1336891447c9b5189a0749e6fa3b81fc3c700c9ca00b8c810a4cc21a8e11ebffa19bef42a86ba5d386f990e47b853884c548a7d5790cd5e93e069959677ab3f89d02b9dde45b0b24ac86830eb3d1ffc4626d6613981704a3d764e347f4d528a5f6591966295d55c96f60033872257b667a0f9a3d6eeb7df7ab5e900bbff00c6ff0ac2ae37c62448eb0052ff0061de1e7065337d002a8600268a043e9b537bc390c0efaae3ff'],
  [11, 11, 7, 7, 'lanczos4', '124c9f6aac8a8d7bd69ac63d543291438fb7978b9bddbf3e4b60856870c17bcbffb99b23eb296b578bc52165c9d9ff00604834a81a7a0050d697fc7e8eb4009cd1492c6198659a68ace116dbff221a4f98467ba852a3d3dfff00b3244b6b1ca4017debd0ff55f79a129011542f6e8d8f9e77c1ed2ef40046004d9c7397bb8991cc5e7c577733782d63b367dca6c342594a4e68'],
  [17, 13, 6, 5, 'area', '67878b7c8ea68275898189908b88806f8f907ea66975706c70858a7c9f587e6a8a88a96a79ae77997852709a8093a05d8379648082796e737e887165836b837f7874885b6b737681807d73708e9a8f697876a0737f6972838676'],
  [12, 12, 4, 4, 'area', '6f87837c94ad8c6b84748c8873a86b7c79586ca181768e517a93729c7c5c75718997935676728b8160958e6e867c7975'],
];

for (const [sw, sh, dw, dh, mode, hex] of opencvReferences) {
  test(`${mode} ${sw}×${sh} → ${dw}×${dh} is bit-exact with OpenCV 4.6`, () => {
    const resize = mode === 'linear' ? resizeLinear : mode === 'area' ? resizeArea : resizeLanczos4;
    assert.equal(Buffer.from(resize(pattern(sw, sh), dw, dh).data).toString('hex'), hex);
  });
}

/** Grey image from a row-major list of values (R = G = B). */
function grey(width: number, height: number, values: number[]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  values.forEach((v, i) => data.fill(v, i * 3, i * 3 + 3));
  return { data, width, height };
}

function channel0(image: RgbImage): number[] {
  return Array.from({ length: image.width * image.height }, (_, i) => image.data[i * 3]);
}

test('linear enlarge matches cv2.resize pixel-centre values with edge clamping', () => {
  // cv2.resize(np.array([[0,255]],np.uint8),(4,1)) == [[0,64,191,255]]
  assert.deepEqual(channel0(resizeLinear(grey(2, 1, [0, 255]), 4, 1)), [0, 64, 191, 255]);
});

test('linear exact 2x shrink averages 2x2 blocks like OpenCV', () => {
  const img = grey(4, 2, [0, 10, 100, 120, 20, 30, 140, 160]);
  assert.deepEqual(channel0(resizeLinear(img, 2, 1)), [15, 130]);
});

test('linear shrink by a non-integer factor samples at pixel centres (no averaging)', () => {
  // 3 → 2: source x = (d+0.5)·1.5 − 0.5 = 0.25, 1.75
  const img = grey(3, 1, [0, 100, 200]);
  assert.deepEqual(channel0(resizeLinear(img, 2, 1)), [25, 175]);
});

test('area shrink weights partially covered cells (computeResizeAreaTab)', () => {
  const img = grey(3, 1, [0, 90, 180]);
  assert.deepEqual(channel0(resizeArea(img, 2, 1)), [30, 150]);
});

test('area shrink by an integer factor is the block mean', () => {
  const img = grey(6, 3, [0, 3, 6, 9, 12, 15, 0, 3, 6, 9, 12, 15, 0, 3, 6, 9, 12, 15]);
  assert.deepEqual(channel0(resizeArea(img, 2, 1)), [3, 12]);
});

test('lanczos4 keeps constants and is the identity at scale 1', () => {
  assert.deepEqual(channel0(resizeLanczos4(grey(3, 2, [77, 77, 77, 77, 77, 77]), 7, 5)), new Array(35).fill(77));
  const values = [0, 50, 200, 255, 10, 90];
  assert.deepEqual(channel0(resizeLanczos4(grey(3, 2, values), 3, 2)), values);
});

test('lanczos4 enlarging a step is symmetric', () => {
  const out = channel0(resizeLanczos4(grey(4, 1, [0, 0, 255, 255]), 8, 1));
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(out[i] + out[7 - i] - 255) <= 1, `pixel ${i}`);
  assert.ok(out[3] < 128 && out[4] > 128);
});

test('channels are resized independently', () => {
  const img: RgbImage = { data: new Uint8Array([255, 0, 10, 255, 0, 10]), width: 2, height: 1 };
  assert.deepEqual(Array.from(resizeLinear(img, 1, 1).data), [255, 0, 10]);
});

test('a window resizes the rectangle it views, without copying it first', () => {
  const img = grey(3, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(channel0(resizeLinear(rectWindow(img, 1, 1, 2, 2), 2, 2)), [5, 6, 8, 9]);
  assert.deepEqual(channel0(resizeLinear(rectWindow(img, 1, 0, 2, 3), 1, 3)), [3, 6, 9].map((v) => v - 0.5).map(Math.round));
  assert.throws(() => rectWindow(img, 2, 2, 2, 2), RangeError);
});

test('a window with mirrored indices reads through them', () => {
  const img = grey(3, 1, [10, 20, 30]);
  const mirrored = { image: img, columns: Int32Array.from([2, 1, 0]), rows: Int32Array.from([0]) };
  assert.deepEqual(channel0(resizeLanczos4(mirrored, 3, 1)), [30, 20, 10]);
});

test('empty sizes, and area enlarging, are rejected', () => {
  assert.throws(() => resizeLinear(grey(1, 1, [0]), 0, 1), RangeError);
  assert.throws(() => resizeArea(grey(1, 1, [0]), 2, 1), RangeError);
});

/**
 * The leak scanners the face end-to-end test relies on must find what they look for, or their
 * "nothing found" proves nothing: a canary in every form (raw, hex, base64/base64url at each
 * alignment), a 128-float vector in text or binary (any endianness, offset, or encoding), planted
 * in a real Postgres table, Redis key and log line; and they must stay quiet on random and
 * encrypted bytes. Also checks in Chromium that the planted JPEGs carry the canary and still decode.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { createLogger } from '../../src/logger.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';
import { openKeyValueStore } from '../../src/store/kv.ts';
import { chromiumMissing, launchBrowser } from '../support/browser.ts';
import { carriesCanary, findCanary, newCanary, plantCanaryScript, type Haystack } from '../support/canary.ts';
import { EMBEDDING_LENGTH, findFloatVectors, longestNumberRun, unitVectorLayout } from '../support/floatVectors.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';
import { captureLogs, dumpPostgres, dumpRedis, recordingStore } from '../support/storeDump.ts';

function unitVector(length = EMBEDDING_LENGTH): number[] {
  const v = Array.from({ length }, () => Math.random() * 2 - 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function floatBytes(v: number[], size: 4 | 8, littleEndian: boolean): Buffer {
  const out = Buffer.alloc(v.length * size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.forEach((x, i) => (size === 4 ? view.setFloat32(i * size, x, littleEndian) : view.setFloat64(i * size, x, littleEndian)));
  return out;
}

const inRandom = (inner: Uint8Array, before: number) => Buffer.concat([randomBytes(before), inner, randomBytes(37)]);

describe('canary finder', () => {
  const canary = newCanary();

  test('finds the canary raw, in hex and in base64/base64url at every byte offset', () => {
    for (let offset = 0; offset < 6; offset++) {
      const blob = inRandom(canary, offset);
      const forms = [
        { where: 'bytes', bytes: blob },
        { where: 'hex', text: `x${blob.toString('hex')}y` },
        { where: 'HEX', text: blob.toString('hex').toUpperCase() },
        { where: 'base64', text: JSON.stringify({ frames: [blob.toString('base64')] }) },
        { where: 'base64url', text: `"${blob.toString('base64url')}"` },
      ];
      const found = new Set(findCanary(canary, forms).map((f) => f.where));
      assert.deepEqual([...found].sort(), forms.map((f) => f.where).sort(), `offset ${offset}`);
    }
  });

  test('finds nothing in other random data', () => {
    const other = randomBytes(64 * 1024);
    const haystacks: Haystack[] = [{ where: 'bytes', bytes: other }, { where: 'text', text: other.toString('base64') + other.toString('hex') }];
    assert.deepEqual(findCanary(canary, haystacks), []);
  });
});

describe('float vector finder', () => {
  const v = unitVector();

  test('finds 128 numbers in a row as JSON, Postgres array or spaced text; not 127', () => {
    assert.equal(longestNumberRun(JSON.stringify({ e: v })), 128);
    assert.equal(findFloatVectors([{ where: 'json', text: JSON.stringify({ e: v }) }]).length, 1);
    assert.equal(findFloatVectors([{ where: 'pg', text: `(1,"{${v.join(',')}}")` }]).length, 1);
    assert.equal(findFloatVectors([{ where: 'spaces', text: v.map((x) => x.toExponential(3)).join(' ') }]).length, 1);
    assert.deepEqual(findFloatVectors([{ where: 'short', text: JSON.stringify(v.slice(1)) }]), []);
  });

  test('finds a unit-norm float32/float64 vector in either byte order, at any offset, raw or encoded', () => {
    for (const [size, littleEndian, name] of [[4, true, 'float32le'], [4, false, 'float32be'], [8, true, 'float64le'], [8, false, 'float64be']] as const) {
      for (const offset of [0, 1, 3, 5]) {
        const blob = inRandom(floatBytes(v, size, littleEndian), offset);
        assert.equal(unitVectorLayout(blob), name, `${name} at ${offset}`);
        assert.equal(findFloatVectors([{ where: 'b64', text: `"${blob.toString('base64url')}"` }]).length, 1, `${name} in base64url at ${offset}`);
        assert.equal(findFloatVectors([{ where: 'hex', text: `\\x${blob.toString('hex')}` }]).length, 1, `${name} in hex at ${offset}`);
      }
    }
  });

  test('finds nothing in random bytes, in a sealed vector, or in a vector that is not near unit norm', () => {
    const haystacks: Haystack[] = [
      { where: 'random', bytes: randomBytes(256 * 1024) },
      { where: 'random text', text: randomBytes(64 * 1024).toString('base64') },
      { where: 'sealed', text: ephemeralDataKey().seal(floatBytes(v, 4, true), 'test') },
      { where: 'scaled', bytes: floatBytes(v.map((x) => x * 0.5), 4, true) },
      // A SEAL ciphertext: a float64 scale of 1.0 before 64-bit coefficients below 2^54 (tiny as doubles).
      { where: 'ciphertext', bytes: Buffer.concat([floatBytes([1], 8, true), ...Array.from({ length: 256 }, () => { const b = randomBytes(8); b[7] = 0; b[6] &= 0x3f; return b; })]) },
    ];
    assert.deepEqual(findFloatVectors(haystacks), []);
  });
});

describe('store dumps', () => {
  let db: TestDatabase;
  before(async () => {
    db = await freshDatabase();
  });
  after(() => db.close());

  test('a Postgres dump covers every table and shows planted rows to both finders', async () => {
    const canary = newCanary();
    const v = unitVector();
    await db.asOwner(async (sql) => {
      await sql.query('CREATE TABLE leak_probe (b bytea, t text, j jsonb)');
      await sql.query('INSERT INTO leak_probe VALUES ($1, NULL, NULL), (NULL, $2, NULL), (NULL, NULL, $3), ($4, NULL, NULL)', [
        inRandom(canary, 3),
        inRandom(canary, 1).toString('base64url'),
        JSON.stringify({ v }),
        inRandom(floatBytes(v, 4, true), 2),
      ]);
    });
    const { haystacks, rowsPerTable } = await dumpPostgres(db);
    assert.equal(rowsPerTable.get('public.leak_probe'), 4);
    assert.ok(rowsPerTable.has('public.tenants') && rowsPerTable.has('public.audit_events'), 'the migrated tables are there');
    const canaryRows = new Set(findCanary(canary, haystacks).map((f) => f.where.replace(/ column .*/, '')));
    assert.deepEqual([...canaryRows].sort(), ['postgres public.leak_probe row 0', 'postgres public.leak_probe row 1']);
    const vectorRows = new Set(findFloatVectors(haystacks).map((f) => f.where.replace(/ column .*/, '')));
    assert.deepEqual([...vectorRows].sort(), ['postgres public.leak_probe row 2', 'postgres public.leak_probe row 3']);
  });

  test('the key-value store: every value written is recorded (taken ones too), and Redis keys are dumped by prefix', async (t) => {
    const canary = newCanary();
    const prefix = `facegate-test:${randomBytes(6).toString('hex')}:`;
    const kv = recordingStore(openKeyValueStore(process.env.REDIS_URL, prefix));
    try {
      await kv.set('kept', canary.toString('hex'), 60_000);
      await kv.set('taken', JSON.stringify(unitVector()), 60_000);
      await kv.take('taken');
      assert.equal(findCanary(canary, kv.written).length, 1);
      assert.equal(findFloatVectors(kv.written).length, 1, 'the taken value was recorded');
      if (!process.env.REDIS_URL) return t.diagnostic('no REDIS_URL: Redis dump not exercised');
      const dumped = await dumpRedis(process.env.REDIS_URL, prefix);
      assert.deepEqual(dumped.filter((h) => !h.where.endsWith('(key)')).map((h) => h.where), [`redis ${prefix}kept`]);
      assert.equal(findCanary(canary, dumped).length, 1);
    } finally {
      await kv.close();
    }
  });

  test('captured log lines are scanned, as the provider logger writes them', () => {
    const canary = newCanary();
    const logs = captureLogs();
    const logger = createLogger({ logLevel: 'info' }, logs);
    logger.info({ note: canary.toString('base64') }, 'probe');
    logger.info({ frames: [canary.toString('base64')] }, 'redacted by key');
    assert.equal(logs.lines.length, 2);
    assert.deepEqual([...new Set(findCanary(canary, logs.haystacks()).map((f) => f.where))], ['log line 0']);
  });
});

describe('canary planting in Chromium', { skip: chromiumMissing() }, () => {
  test('every JPEG from canvas.toBlob carries the canary and still decodes; PNGs are untouched', async () => {
    const canary = newCanary();
    const browser = await launchBrowser();
    try {
      await browser.page.addInitScript(plantCanaryScript(canary));
      await browser.page.goto('data:text/html,<canvas width="64" height="48"></canvas>');
      const [jpeg, png] = await browser.page.evaluate(async () => {
        const canvas = document.querySelector('canvas')!;
        canvas.getContext('2d')!.fillRect(8, 8, 20, 20);
        const bytes = async (type: string) => [...new Uint8Array(await (await new Promise<Blob>((r) => canvas.toBlob((b) => r(b!), type, 0.9))).arrayBuffer())];
        return [await bytes('image/jpeg'), await bytes('image/png')];
      });
      assert.ok(carriesCanary(Uint8Array.from(jpeg), canary));
      assert.deepEqual(await sharp(Buffer.from(jpeg)).metadata().then((m) => [m.format, m.width, m.height]), ['jpeg', 64, 48]);
      assert.equal(findCanary(canary, [{ where: 'png', bytes: Uint8Array.from(png) }]).length, 0);
    } finally {
      await browser.close();
    }
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALERT_FACTOR, ALERT_FLOOR, createDecryptRate, type DecryptRateAlert } from '../../src/custodian/decryptRate.ts';
import { freshKeyValueStore } from '../support/services.ts';

const MINUTE = 60_000;

test('a tenant whose decryptions jump past the previous minute’s rate raises one alert line', async () => {
  const kv = freshKeyValueStore();
  const alerts: DecryptRateAlert[] = [];
  let now = 1000 * MINUTE;
  const rate = createDecryptRate({ kv, alert: (a) => alerts.push(a), now: () => now });
  for (let i = 0; i < 10; i++) await rate.note('acme');
  now += MINUTE;
  // 10 last minute: the line comes at max(floor, factor·10) in this one, once, whatever follows.
  const threshold = Math.max(ALERT_FLOOR, ALERT_FACTOR * 10);
  await Promise.all(Array.from({ length: threshold + 20 }, () => rate.note('acme')));
  for (let i = 0; i < ALERT_FLOOR - 1; i++) await rate.note('globex');
  assert.deepEqual(alerts, [{ tenant: 'acme', count: threshold, previousMinute: 10 }], 'one line, for acme only');
  await kv.close();
});

test('the global ceiling refuses decryptions over every tenant until the next minute', async () => {
  const kv = freshKeyValueStore();
  let now = 2000 * MINUTE + 15_000;
  const rate = createDecryptRate({ kv, globalLimit: 5, alert: () => {}, now: () => now });
  for (let i = 0; i < 5; i++) await rate.note(i % 2 ? 'acme' : 'globex');
  await assert.rejects(rate.note('initech'), (e: { code: string; retryAfterSeconds: number }) => e.code === 'custodian.busy' && e.retryAfterSeconds === 45);
  now += MINUTE;
  await rate.note('initech');
  await kv.close();
});

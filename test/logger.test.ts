import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redact } from '../src/logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream };
}

const SECRETS = ['482913', 'ABCD-SECRET', 'Bearer eyJhbGciOi', 'sid=xyz123', '0.123,0.456', 'data:image/png;base64,AAAA', 'frame-bytes'];

describe('createLogger', () => {
  it('never writes a redacted field, at any depth, in log objects or child bindings', () => {
    const { lines, stream } = capture();
    const log = createLogger({ logLevel: 'info' }, stream);
    log.info({ pin: SECRETS[0], user: { name: 'alice', client_secret: SECRETS[1] } }, 'signin');
    log.info({ req: { method: 'POST', headers: { Authorization: SECRETS[2], cookie: SECRETS[3] } } }, 'request');
    log.info({ body: { deep: { deeper: { embedding: SECRETS[4] } } }, attempts: [{ image: SECRETS[5] }] }, 'face');
    log.child({ frames: SECRETS[6] }).warn('child');
    const out = lines.join('');
    assert.equal(lines.length, 4);
    for (const secret of SECRETS) assert.ok(!out.includes(secret), `leaked ${secret}`);
    assert.match(out, /"pin":"\[redacted\]"/);
    assert.match(out, /"name":"alice"/);
    assert.match(out, /"method":"POST"/);
  });

  it('respects the configured level', () => {
    const { lines, stream } = capture();
    const log = createLogger({ logLevel: 'warn' }, stream);
    log.info('hidden');
    log.warn('shown');
    assert.equal(lines.length, 1);
  });
});

describe('redact', () => {
  it('does not modify the caller object and shares untouched branches', () => {
    const untouched = { a: 1 };
    const input = { pin: '1', keep: untouched };
    const out = redact(input) as typeof input;
    assert.equal(input.pin, '1');
    assert.equal(out.pin, '[redacted]');
    assert.equal(out.keep, untouched);
  });
});

import { describe, expect, it } from 'vitest';
import { errorResponse, MAX_REQUEST_BYTES, okResponse, parseRequest, RequestError } from '../../src/bus/request-envelope.js';

const parse = (text: string) => parseRequest(Buffer.from(text));

describe('parseRequest', () => {
  it('splits the transaction from the fields', () => {
    expect(parse('{"transaction":"t-1","windowId":"w01"}')).toEqual({ ok: true, transaction: 't-1', fields: { windowId: 'w01' } });
    expect(parse('{"transaction":7}')).toEqual({ ok: true, transaction: 7, fields: {} });
  });

  it('accepts a request without a transaction, and an empty payload as {}', () => {
    expect(parse('{"a":1}')).toEqual({ ok: true, fields: { a: 1 } });
    expect(parseRequest(Buffer.alloc(0))).toEqual({ ok: true, fields: {} });
  });

  it.each(['not json', '[1,2]', '"text"', '42', 'null', '{"a":', '\u0000'])('refuses %j as bad-request', (text) => {
    const parsed = parse(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe('bad-request');
      expect(parsed.error.message).toMatch(/JSON/);
    }
  });

  it.each(['{"transaction":{"x":1}}', '{"transaction":null}', '{"transaction":[1]}', '{"transaction":true}'])('refuses a bad transaction %s', (text) => {
    const parsed = parse(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message).toMatch(/transaction/);
  });

  it('refuses oversized requests before parsing them', () => {
    const parsed = parseRequest(Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x20));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message).toMatch(/limit/);
  });
});

describe('responses', () => {
  it('echo the transaction', () => {
    expect(okResponse('t', { n: 1 })).toEqual({ transaction: 't', status: 'ok', data: { n: 1 } });
    expect(okResponse(undefined, undefined)).toEqual({ status: 'ok', data: null });
  });

  it('keep a RequestError code and message', () => {
    expect(errorResponse(3, new RequestError('unknown-ticket', 'no ticket A001 today'))).toEqual({
      transaction: 3,
      status: 'error',
      error: 'no ticket A001 today',
      code: 'unknown-ticket',
    });
  });

  it('turn anything else thrown into internal-error', () => {
    expect(errorResponse('x', new TypeError('boom'))).toMatchObject({ status: 'error', code: 'internal-error', error: 'internal error: boom' });
    expect(errorResponse('x', 'a string')).toMatchObject({ code: 'internal-error', error: 'internal error: a string' });
  });
});

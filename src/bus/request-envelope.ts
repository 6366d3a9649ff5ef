/**
 * The request/response envelope of `bridge/request/<command>` → `bridge/response/<command>`,
 * kept pure so every malformed input can be unit-tested without a broker.
 */

export type Transaction = string | number;

/** A refusal the caller should see: `code` is for programs, `message` for people. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export type ParsedRequest =
  | { ok: true; transaction?: Transaction; fields: Record<string, unknown> }
  | { ok: false; transaction?: Transaction; error: RequestError };

export type ResponseEnvelope =
  | { transaction?: Transaction; status: 'ok'; data: unknown }
  | { transaction?: Transaction; status: 'error'; error: string; code: string };

/** Larger requests are refused before JSON.parse: no command needs more than a few KiB. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export function parseRequest(payload: Buffer): ParsedRequest {
  if (payload.length > MAX_REQUEST_BYTES) {
    return { ok: false, error: new RequestError('bad-request', `request is ${payload.length} bytes; the limit is ${MAX_REQUEST_BYTES}`) };
  }
  let body: unknown;
  try {
    body = payload.length === 0 ? {} : JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, error: new RequestError('bad-request', `payload is not valid JSON: ${(err as Error).message}`) };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: new RequestError('bad-request', 'payload must be a JSON object like {"transaction": "1", ...}') };
  }
  const { transaction, ...fields } = body as Record<string, unknown>;
  if (transaction === undefined) return { ok: true, fields };
  if (!isTransaction(transaction)) {
    return { ok: false, error: new RequestError('bad-request', 'transaction must be a string or a finite number') };
  }
  return { ok: true, transaction, fields };
}

export function okResponse(transaction: Transaction | undefined, data: unknown): ResponseEnvelope {
  return { ...(transaction !== undefined ? { transaction } : {}), status: 'ok', data: data ?? null };
}

export function errorResponse(transaction: Transaction | undefined, error: unknown): ResponseEnvelope {
  const refusal = toRequestError(error);
  return { ...(transaction !== undefined ? { transaction } : {}), status: 'error', error: refusal.message, code: refusal.code };
}

/**
 * An answer in this envelope, as the asking side reads it (the hall reading a voice box's answer
 * to `announce`): undefined when it is not one, so the caller can count and log it.
 */
export function parseResponse(value: unknown): ResponseEnvelope | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { transaction, status, data, error, code } = value as Record<string, unknown>;
  if (transaction !== undefined && !isTransaction(transaction)) return undefined;
  const echo = transaction !== undefined ? { transaction } : {};
  if (status === 'ok') return { ...echo, status, data: data ?? null };
  if (status === 'error' && typeof error === 'string' && typeof code === 'string' && code.length > 0) return { ...echo, status, error, code };
  return undefined;
}

/** Anything a handler throws becomes a RequestError; unexpected throws are `internal-error`. */
export function toRequestError(error: unknown): RequestError {
  if (error instanceof RequestError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RequestError('internal-error', `internal error: ${message}`);
}

function isTransaction(value: unknown): value is Transaction {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

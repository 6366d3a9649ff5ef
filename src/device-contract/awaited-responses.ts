import { parseResponse, RequestError, type Transaction } from '../bus/request-envelope.js';

interface Waiting {
  resolve: (data: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** What became of an answer handed to settle(). */
export type SettleOutcome = 'settled' | 'unknown' | 'malformed';

/**
 * The asking side of the request envelope: requests the hall sends to a device (a voice box's
 * `announce`) wait here, by `transaction`, for the answer in the same `{ transaction, status,
 * data | code + error }` shape as `bridge/response`. An error answer rejects with its RequestError
 * (code and message as the device gave them); no answer in time rejects with code `timeout`.
 */
export class AwaitedResponses {
  private readonly waiting = new Map<string, Waiting>();

  /** Resolves with the answer's `data`. `what` names the request in the timeout's message. */
  expect(transaction: Transaction, timeoutMs: number, what: string): Promise<unknown> {
    const key = String(transaction);
    if (this.waiting.has(key)) return Promise.reject(new RequestError('transaction-reused', `${what}: transaction ${key} is already waiting for its answer`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new RequestError('timeout', `${what}: no answer within ${Math.round(timeoutMs)} ms`));
      }, timeoutMs);
      this.waiting.set(key, { resolve, reject, timer });
    });
  }

  /** Hands an answer to the request it belongs to. A late or duplicate answer is 'unknown'. */
  settle(payload: unknown): SettleOutcome {
    const response = parseResponse(payload);
    if (!response || response.transaction === undefined) return 'malformed';
    const key = String(response.transaction);
    const waiting = this.waiting.get(key);
    if (!waiting) return 'unknown';
    this.waiting.delete(key);
    clearTimeout(waiting.timer);
    if (response.status === 'ok') waiting.resolve(response.data);
    else waiting.reject(new RequestError(response.code, response.error));
    return 'settled';
  }

  /** Fails every request still waiting (the asker is stopping). */
  rejectAll(err: (transaction: string) => Error): void {
    for (const [key, waiting] of this.waiting) {
      clearTimeout(waiting.timer);
      waiting.reject(err(key));
    }
    this.waiting.clear();
  }
}

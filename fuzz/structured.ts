import fc from 'fast-check';
import type { Rng } from './rng.js';

/**
 * Structure-aware inputs from fast-check arbitraries. fc.sample per input would cost more than
 * most parsers do, so values are drawn in batches from a seed that the run's Rng supplies.
 */
export function fromArbitrary<T>(arbitrary: fc.Arbitrary<T>, batch = 500): (rng: Rng) => T {
  let buffer: T[] = [];
  return (rng) => {
    if (buffer.length === 0) buffer = fc.sample(arbitrary, { numRuns: batch, seed: rng.next() | 0 });
    return buffer.pop()!;
  };
}

/**
 * Values to put into a document (the leaf mutateJsonLeaf replaces), drawn at random from a batch
 * that is renewed after `uses` draws per value. A leaf placed at a random spot of a random
 * document makes a new input each time, so a leaf may serve a few; fast-check spends ~25 µs on
 * each biased JSON value, more than most parsers here spend on the whole input.
 */
export function leafPool<T>(arbitrary: fc.Arbitrary<T>, uses = 4, batch = 500): (rng: Rng) => T {
  let pool: T[] = [];
  let left = 0;
  return (rng) => {
    if (left === 0) {
      pool = fc.sample(arbitrary, { numRuns: batch, seed: rng.next() | 0 });
      left = batch * uses;
    }
    left -= 1;
    return rng.pick(pool);
  };
}

/** JSON values with the keys that trip naive object handling. */
export const nastyKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'transaction', 'id');

export const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(nastyKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -0, 1e308, 5e-324, '', '\u0000', '\uFEFF', '\uD800', 'x'.repeat(300)) },
);

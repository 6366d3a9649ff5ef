import { LineFramer as BoundedLineFramer } from '../../src/platform/serial/line-framer.js';
import { MAX_LINE_BYTES } from './messages.js';

export type { RawLine } from '../../src/platform/serial/line-framer.js';

/** Lines of the counter-pad protocol: at most MAX_LINE_BYTES, plus CR LF. */
export class LineFramer extends BoundedLineFramer {
  constructor(maxLineBytes = MAX_LINE_BYTES + 2) {
    super(maxLineBytes);
  }
}

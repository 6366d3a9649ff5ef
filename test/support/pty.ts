// The PTY pair helper lives in src/platform (the demo hall uses it too).
export { openPtyPair, type PtyPair } from '../../src/platform/pty-pair.js';

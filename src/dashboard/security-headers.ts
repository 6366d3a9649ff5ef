/**
 * Headers on every dashboard response. The CSP allows scripts, styles and images only from the
 * dashboard itself (no inline script, no eval) and WebSocket connections only to the broker's
 * port, on whatever host name the operator used to reach the box.
 */
export function securityHeaders(wsPort: number | undefined): Record<string, string> {
  const connect = wsPort === undefined ? "'self'" : `'self' ws://*:${wsPort} wss://*:${wsPort}`;
  return {
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data: blob:",
      // The hall display page plays each call's announcement (a WAV the daemon renders).
      "media-src 'self'",
      // mqtt.js runs its keepalive timers in a blob: worker, so a background tab is not throttled into a timeout.
      "worker-src blob:",
      `connect-src ${connect}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
  };
}

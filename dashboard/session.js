// The page's only link to the hall: one MQTT/WebSocket connection with the operator's own
// credentials. Requests go to bridge/request/<command>; answers are matched by transaction id.

const REQUEST_TIMEOUT_MS = 10_000;
const RECONNECT_MS = 3_000;

export class HallSession {
  constructor({ url, baseTopic, username, password, onMessage, onState }) {
    this.url = url;
    this.base = baseTopic;
    this.username = username;
    this.password = password;
    this.onMessage = onMessage;
    this.onState = onState;
    this.pending = new Map();
    this.seq = 0;
    this.client = undefined;
  }

  /** Resolves once connected and subscribed; rejects with `{ kind: 'auth' | 'network', message }`. */
  connect() {
    return new Promise((resolve, reject) => {
      const client = window.mqtt.connect(this.url, {
        username: this.username,
        password: this.password,
        clientId: `dashboard-${this.username}-${Math.random().toString(16).slice(2, 10)}`,
        // No retry before the first success: a wrong password must surface, not loop.
        reconnectPeriod: 0,
        connectTimeout: 8_000,
        protocolVersion: 4,
        clean: true,
      });
      this.client = client;
      let settled = false;
      const fail = (kind, message) => {
        if (settled) return;
        settled = true;
        client.end(true);
        reject({ kind, message });
      };
      client.on('error', (err) => {
        // CONNACK 5 (not authorized) or 4 (bad user name or password)
        if (!settled && (err && (err.code === 5 || err.code === 4))) fail('auth', err.message);
        else if (!settled) fail('network', (err && err.message) || String(err));
      });
      client.on('close', () => {
        if (!settled) fail('network', 'connection closed');
        else this.onState(this.client ? 'reconnecting' : 'disconnected');
      });
      client.on('reconnect', () => this.onState('reconnecting'));
      client.on('connect', () => {
        this.onState('connected');
        if (settled) return;
        settled = true;
        client.options.reconnectPeriod = RECONNECT_MS;
        const topics = ['bridge/state', 'bridge/info', 'bridge/response/+', 'event', 'window/+', 'queue/+', 'stats/today', 'device/+', 'device/+/availability', 'alarms'];
        client.subscribe(topics.map((topic) => `${this.base}/${topic}`), { qos: 1 }, (err) => {
          if (err) reject({ kind: 'network', message: err.message });
          else resolve();
        });
      });
      client.on('message', (topic, payload) => this.dispatch(topic, payload));
    });
  }

  dispatch(topic, payload) {
    if (!topic.startsWith(`${this.base}/`)) return;
    const relative = topic.slice(this.base.length + 1);
    const text = new TextDecoder().decode(payload);
    let data = null;
    if (text.length > 0) {
      try {
        data = JSON.parse(text);
      } catch {
        console.warn('dashboard: ignoring a non-JSON payload on', topic);
        return;
      }
    }
    if (relative.startsWith('bridge/response/') && data && data.transaction !== undefined) {
      const waiter = this.pending.get(String(data.transaction));
      if (waiter) {
        this.pending.delete(String(data.transaction));
        clearTimeout(waiter.timer);
        waiter.resolve(data);
      }
      return;
    }
    this.onMessage(relative, data);
  }

  /** Sends a bridge request; resolves with the hall's response `{ status, data | error, code }`. */
  request(command, fields = {}) {
    const transaction = `dash-${Date.now().toString(36)}-${++this.seq}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        resolve({ status: 'error', code: 'timeout', error: null });
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(transaction, { resolve, timer });
      this.client.publish(`${this.base}/bridge/request/${command}`, JSON.stringify({ transaction, ...fields }), { qos: 1, retain: false });
    });
  }

  close() {
    const client = this.client;
    this.client = undefined;
    for (const waiter of this.pending.values()) clearTimeout(waiter.timer);
    this.pending.clear();
    if (client) client.end(true);
  }
}

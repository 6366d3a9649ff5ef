import type { Principal } from './users.js';

/**
 * Who may publish and subscribe where, as pure functions of (principal, topic) so they can be
 * tested exhaustively. Everything lives under `hall/<hallId>`; the bridge (in-process, no MQTT
 * client) is never asked — only network clients are.
 */
export type AclDecision = { allowed: true } | { allowed: false; reason: string };

const ALLOW: AclDecision = { allowed: true };
const refuse = (reason: string): AclDecision => ({ allowed: false, reason });

/**
 * The only places a network client may write: requests to the bridge, and a device's own
 * message topics. Everything else under the base (bridge/state, bridge/info, bridge/response,
 * event, window, queue, stats, alarms, device/<id>, device/<id>/availability, and whatever the
 * hall adds later) is the hall's truth and only the in-process bridge writes it — a whitelist,
 * so a new bridge topic is protected without touching this file.
 * `rel` is the topic's levels after `hall/<hallId>`.
 */
export function isClientWritable(rel: readonly string[]): boolean {
  if (isRequestTopic(rel)) return true;
  if (isNotifyAnswerTopic(rel)) return true;
  // device/<id> is the hall's retained view of the device and device/<id>/availability its
  // reachability, so a device cannot claim either for itself.
  return rel[0] === 'device' && rel.length >= 3 && isLevel(rel[1]) && isLevel(rel[2]) && rel[2] !== 'availability';
}

/**
 * Exactly `bridge/request/<command>`: the bridge listens on `bridge/request/+`, so a deeper
 * topic (`bridge/request/issue/extra`) would reach every subscriber and never be answered.
 */
function isRequestTopic(rel: readonly string[]): boolean {
  return rel[0] === 'bridge' && rel[1] === 'request' && rel.length === 3 && isLevel(rel[2]);
}

/**
 * A notification gateway's own topics (docs/mqtt-api.md, "Notifications"): the hall publishes
 * notices, each with a visitor's phone number, on `notify/<gatewayId>`; the gateway answers on
 * `notify/<gatewayId>/result` and says it is ready on `notify/<gatewayId>/state`. Only that
 * gateway (the device user with that deviceId) may read or write any of them.
 */
const NOTIFY_ANSWERS = new Set(['result', 'state']);

function isNotifyAnswerTopic(rel: readonly string[]): boolean {
  return rel[0] === 'notify' && rel.length === 3 && isLevel(rel[1]) && NOTIFY_ANSWERS.has(rel[2]!);
}

/** The topic prefixes `mayReceive` looks at, made once per broker. */
export interface ReceiveGuard {
  notify: string;
  request: string;
  device: string;
}

export function receiveGuard(hallId: string): ReceiveGuard {
  return { notify: `hall/${hallId}/notify/`, request: `hall/${hallId}/bridge/request/`, device: `hall/${hallId}/device/` };
}

/**
 * Whether a message on `topic` may be delivered to this network client, whatever it subscribed
 * to (an operator's `hall/<id>/#` or an admin's `#` included). Checked for every delivery:
 * - `notify/<gatewayId>/...` goes to that gateway alone: notices carry visitors' contacts;
 * - requests (`bridge/request/<command>`, a kiosk's `device/<id>/issue`, and refused requests
 *   set aside under `$hall-edge/`) go to no client: they are for the hall, and an `issue` may
 *   carry a visitor's contact. Their answers are private to the asker anyway.
 * The hall's own in-process subscriptions are not network clients and are not asked.
 */
export function mayReceive(who: Principal | undefined, topic: string, guard: ReceiveGuard): boolean {
  if (topic.startsWith(guard.notify)) {
    const gateway = topic.slice(guard.notify.length).split('/')[0];
    return who?.role === 'device' && who.deviceId !== undefined && who.deviceId === gateway;
  }
  if (topic.startsWith(guard.request) || topic.startsWith('$hall-edge/')) return false;
  return !(topic.startsWith(guard.device) && topic.endsWith('/issue'));
}

/** Whether `topic` is a request to the bridge (`hall/<hallId>/bridge/request/<command>`). */
export function isRequest(topic: string, hallId: string): boolean {
  const rel = relativeLevels(topic, hallId);
  return rel !== undefined && isRequestTopic(rel);
}

function isLevel(level: string | undefined): boolean {
  return level !== undefined && level !== '';
}

function relativeLevels(topic: string, hallId: string): string[] | undefined {
  const levels = topic.split('/');
  if (levels[0] !== 'hall' || levels[1] !== hallId || levels.length < 3) return undefined;
  return levels.slice(2);
}

export function decidePublish(who: Principal, topic: string, retain: boolean, hallId: string): AclDecision {
  if (topic.includes('+') || topic.includes('#')) return refuse('wildcards are not allowed in a published topic');
  const rel = relativeLevels(topic, hallId);
  if (!rel) return refuse(`outside the hall's base topic hall/${hallId}`);
  if (!isClientWritable(rel)) return refuse('only the hall-edge bridge publishes this topic');
  if (isRequestTopic(rel) && retain) return refuse('requests must not be retained (they would be replayed on every restart)');
  // The hall commands a device on its device/<id>/<sub> topics (announce, checkin, .../response):
  // a retained message there would be replayed to the device as a command on every reconnect.
  if (retain) return refuse('device messages must not be retained (the hall commands devices on these topics)');
  if (rel[0] === 'notify') {
    return who.role === 'device' && who.deviceId === rel[1] ? ALLOW : refuse(`only the notification gateway "${rel[1]}" answers on notify/${rel[1]}/`);
  }

  switch (who.role) {
    case 'admin':
      return ALLOW;
    case 'operator':
      return isRequestTopic(rel) ? ALLOW : refuse('operators publish only to bridge/request/<command>');
    case 'observer':
      return refuse('observers are read-only');
    case 'display':
      return refuse('displays are read-only');
    case 'device':
      return rel[0] === 'device' && who.deviceId !== undefined && rel[1] === who.deviceId
        ? ALLOW
        : refuse(`devices publish only under device/${who.deviceId ?? '<deviceId>'}/`);
  }
}

export function decideSubscribe(who: Principal, filter: string, hallId: string): AclDecision {
  const rel = relativeLevels(filter, hallId);
  if (who.role === 'admin' && rel?.[0] !== 'notify') return ALLOW;
  if (filter.startsWith('$')) return refuse('$-topics ($SYS, $share) are for admins only');
  if (!rel) return refuse(`outside the hall's base topic hall/${hallId}`);

  // Wildcards above it (`#`, `+/...`) are allowed: mayReceive keeps notices from them.
  if (rel[0] === 'notify' && !(who.role === 'device' && rel.length === 2 && rel[1] === who.deviceId)) {
    return refuse('notify/<gatewayId> carries visitors\' contacts: only that gateway may subscribe, to its own notify/<deviceId>');
  }
  switch (who.role) {
    case 'admin':
    case 'operator':
    case 'observer':
      return ALLOW;
    case 'display':
      return isPublicDocumentFilter(rel) ? ALLOW : refuse('displays subscribe only to the public documents: bridge/state, display, queue/<serviceId> (or queue/+)');
    case 'device': {
      if (rel.length === 2 && rel[0] === 'bridge' && rel[1] === 'state') return ALLOW;
      if (rel.length === 2 && rel[0] === 'notify') return ALLOW;
      if (rel[0] === 'device' && who.deviceId !== undefined && rel[1] === who.deviceId) return ALLOW;
      return refuse(`devices subscribe only to device/${who.deviceId ?? '<deviceId>'}/#, notify/${who.deviceId ?? '<deviceId>'} and bridge/state`);
    }
  }
}

/**
 * The documents a screen in the public hall may read (role `display`): whether the hall is up,
 * the hall display document (latest calls, 办件量, the broadcast line) and the waiting lines.
 * Exact filters only — no `#` and no `+` except as a queue's id — so `event` (gate decisions,
 * ticket items), `window/…` (staff ids), `stats/today` (staff figures, poor ratings), `alarms`
 * and `device/…` stay unreadable whatever filter a display sends.
 */
function isPublicDocumentFilter(rel: readonly string[]): boolean {
  if (rel.length === 2 && rel[0] === 'bridge' && rel[1] === 'state') return true;
  if (rel.length === 1 && rel[0] === 'display') return true;
  return rel.length === 2 && rel[0] === 'queue' && isLevel(rel[1]) && (rel[1] === '+' || !/[+#]/.test(rel[1]!));
}

/**
 * A last will, checked when the client connects (and again, as a publish, when it is sent).
 * A will on a request topic would send a request once its client is gone: nobody is left to
 * read the answer, so it is refused outright.
 */
export function decideWill(who: Principal, topic: string, retain: boolean, hallId: string): AclDecision {
  const rel = relativeLevels(topic, hallId);
  if (rel && rel[0] === 'bridge' && rel[1] === 'request') return refuse('a will may not be a request (its answer would go to a client that is gone)');
  return decidePublish(who, topic, retain, hallId);
}

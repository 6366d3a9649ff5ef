import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decidePublish, decideSubscribe, decideWill, isClientWritable, isRequest, mayReceive, receiveGuard } from '../../src/bus/acl.js';
import type { Principal } from '../../src/bus/users.js';

const HALL = 'zhifu';
const base = `hall/${HALL}`;
const device: Principal = { username: 'kiosk-1', role: 'device', deviceId: 'kiosk-1' };
const operator: Principal = { username: 'op', role: 'operator' };
const observer: Principal = { username: 'obs', role: 'observer' };
const admin: Principal = { username: 'root', role: 'admin' };
const display: Principal = { username: 'tv-1', role: 'display' };

type Who = 'device' | 'operator' | 'observer' | 'admin' | 'display';
const principals: Record<Who, Principal> = { device, operator, observer, admin, display };

/** Expected publish outcome per role; `retain` false unless the row says otherwise. */
const publishTable: Array<[topic: string, allowedFor: Who[], retain?: boolean]> = [
  [`${base}/bridge/request/call-next`, ['operator', 'admin']],
  [`${base}/bridge/request/call-next`, [], true],
  // Below a command: the bridge listens on bridge/request/+ only, so nobody would answer it.
  [`${base}/bridge/request/x/y`, []],
  [`${base}/bridge/request/issue/extra`, []],
  [`${base}/bridge/request`, []],
  [`${base}/bridge/request/`, []],
  [`${base}/bridge/state`, []],
  [`${base}/bridge/info`, []],
  [`${base}/bridge/response/call-next`, []],
  [`${base}/bridge/response`, []],
  [`${base}/event`, []],
  [`${base}/window/w01`, []],
  [`${base}/window`, []],
  [`${base}/queue/social-security`, []],
  [`${base}/stats/today`, []],
  [`${base}/alarms`, []],
  [`${base}/something-new`, []],
  [`${base}/device/kiosk-1`, []],
  [`${base}/device/kiosk-1/availability`, []],
  [`${base}/device/kiosk-1/played`, ['device', 'admin']],
  // Retained device messages would be replayed to the device as commands (announce, checkin).
  [`${base}/device/kiosk-1/played`, [], true],
  [`${base}/device/kiosk-1/announce`, [], true],
  [`${base}/device/kiosk-2/announce`, [], true],
  [`${base}/device/kiosk-1/a/b/c`, ['device', 'admin']],
  [`${base}/device/kiosk-1/`, []],
  [`${base}/device/kiosk-2/played`, ['admin']],
  [`${base}/device//played`, []],
  [`${base}/device`, []],
  [base, []],
  [`hall/other/bridge/request/call-next`, []],
  [`hall/other/device/kiosk-1/played`, []],
  ['hall', []],
  ['$SYS/broker/x', []],
  ['random/topic', []],
  [`${base}/device/+/played`, []],
  [`${base}/#`, []],
  // A notification gateway answers on its own notify/<id>/result and /state; nobody else writes there.
  [`${base}/notify/kiosk-1/result`, ['device']],
  [`${base}/notify/kiosk-1/state`, ['device']],
  [`${base}/notify/kiosk-1/result`, [], true],
  [`${base}/notify/kiosk-2/result`, []],
  [`${base}/notify/kiosk-1`, []],
  [`${base}/notify/kiosk-1/other`, []],
  [`${base}/notify/kiosk-1/result/x`, []],
];

describe('decidePublish', () => {
  for (const [topic, allowedFor, retain = false] of publishTable) {
    for (const who of Object.keys(principals) as Who[]) {
      const expected = allowedFor.includes(who);
      it(`${who} ${expected ? 'may' : 'may not'} publish ${retain ? 'retained ' : ''}${topic || '(empty)'}`, () => {
        const decision = decidePublish(principals[who], topic, retain, HALL);
        expect(decision.allowed).toBe(expected);
        if (!decision.allowed) expect(decision.reason.length).toBeGreaterThan(5);
      });
    }
  }

  it('a device user without deviceId may publish nowhere', () => {
    const broken: Principal = { username: 'x', role: 'device' };
    expect(decidePublish(broken, `${base}/device/undefined/x`, false, HALL).allowed).toBe(false);
  });
});

describe('decideWill', () => {
  it('refuses a will on a request topic for every role, even one that may send requests', () => {
    for (const who of Object.values(principals)) {
      for (const t of [`${base}/bridge/request/call-next`, `${base}/bridge/request/issue/extra`, `${base}/bridge/request`]) {
        const decision = decideWill(who, t, false, HALL);
        expect(decision).toMatchObject({ allowed: false });
        if (!decision.allowed) expect(decision.reason).toMatch(/request/);
      }
    }
  });

  it('otherwise judges a will like a publish', () => {
    fc.assert(
      fc.property(topic, fc.boolean(), fc.constantFrom(...Object.values(principals)), (t, retain, who) => {
        if (t.startsWith(`${base}/bridge/request`)) return;
        expect(decideWill(who, t, retain, HALL).allowed).toBe(decidePublish(who, t, retain, HALL).allowed);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isRequest', () => {
  it('is exactly bridge/request/<command> under the hall', () => {
    expect(isRequest(`${base}/bridge/request/issue`, HALL)).toBe(true);
    expect(isRequest(`${base}/bridge/request/issue/extra`, HALL)).toBe(false);
    expect(isRequest(`${base}/bridge/request/`, HALL)).toBe(false);
    expect(isRequest(`hall/other/bridge/request/issue`, HALL)).toBe(false);
  });
});

const subscribeTable: Array<[filter: string, allowedFor: Who[]]> = [
  [`${base}/#`, ['operator', 'observer', 'admin']],
  [`${base}/event`, ['operator', 'observer', 'admin']],
  [`${base}/bridge/response/+`, ['operator', 'observer', 'admin']],
  [`${base}/bridge/state`, ['device', 'operator', 'observer', 'admin', 'display']],
  [`${base}/bridge/+`, ['operator', 'observer', 'admin']],
  [`${base}/bridge/info`, ['operator', 'observer', 'admin']],
  [`${base}/device/kiosk-1`, ['device', 'operator', 'observer', 'admin']],
  [`${base}/device/kiosk-1/#`, ['device', 'operator', 'observer', 'admin']],
  [`${base}/device/kiosk-1/announce`, ['device', 'operator', 'observer', 'admin']],
  [`${base}/device/kiosk-1/+/x`, ['device', 'operator', 'observer', 'admin']],
  [`${base}/device/kiosk-2/#`, ['operator', 'observer', 'admin']],
  [`${base}/device/+/announce`, ['operator', 'observer', 'admin']],
  [`${base}/device/#`, ['operator', 'observer', 'admin']],
  [`${base}/+/kiosk-1/#`, ['operator', 'observer', 'admin']],
  [`hall/+/#`, ['admin']],
  [`hall/#`, ['admin']],
  [`hall/other/#`, ['admin']],
  ['#', ['admin']],
  ['+/zhifu/#', ['admin']],
  ['$SYS/#', ['admin']],
  [`$share/g/${base}/#`, ['admin']],
  [base, ['admin']],
  // Notices carry visitors' contacts: a gateway subscribes to its own, nobody else to any.
  [`${base}/notify/kiosk-1`, ['device']],
  [`${base}/notify/kiosk-2`, []],
  [`${base}/notify/#`, []],
  [`${base}/notify/+`, []],
  [`${base}/notify/kiosk-1/#`, []],
  [`${base}/notify/kiosk-1/result`, []],
  // A hall TV reads the public documents only: exact filters, `+` only as a queue's id.
  [`${base}/display`, ['operator', 'observer', 'admin', 'display']],
  [`${base}/display/#`, ['operator', 'observer', 'admin']],
  [`${base}/display/x`, ['operator', 'observer', 'admin']],
  [`${base}/queue/+`, ['operator', 'observer', 'admin', 'display']],
  [`${base}/queue/social-security`, ['operator', 'observer', 'admin', 'display']],
  [`${base}/queue/#`, ['operator', 'observer', 'admin']],
  [`${base}/queue/a+b`, ['operator', 'observer', 'admin']],
  [`${base}/queue/+/x`, ['operator', 'observer', 'admin']],
  [`${base}/queue`, ['operator', 'observer', 'admin']],
  [`${base}/+`, ['operator', 'observer', 'admin']],
  [`${base}/+/+`, ['operator', 'observer', 'admin']],
  [`${base}/+/state`, ['operator', 'observer', 'admin']],
  [`${base}/stats/today`, ['operator', 'observer', 'admin']],
  [`${base}/window/+`, ['operator', 'observer', 'admin']],
  [`${base}/window/w01`, ['operator', 'observer', 'admin']],
  [`${base}/alarms`, ['operator', 'observer', 'admin']],
  [`${base}/device/+/availability`, ['operator', 'observer', 'admin']],
  [`hall/other/display`, ['admin']],
  [`hall/+/display`, ['admin']],
];

describe('decideSubscribe', () => {
  for (const [filter, allowedFor] of subscribeTable) {
    for (const who of Object.keys(principals) as Who[]) {
      const expected = allowedFor.includes(who);
      it(`${who} ${expected ? 'may' : 'may not'} subscribe ${filter}`, () => {
        expect(decideSubscribe(principals[who], filter, HALL).allowed).toBe(expected);
      });
    }
  }
});

const level = fc.oneof(
  fc.constantFrom('hall', HALL, 'other', 'device', 'kiosk-1', 'kiosk-2', 'bridge', 'request', 'state', 'response', 'event', 'window', 'availability', 'display', 'queue', 'notify', 'result', '+', '#', '', '$SYS'),
  fc.string({ maxLength: 6 }),
);
const topic = fc.array(level, { minLength: 1, maxLength: 7 }).map((levels) => levels.join('/'));

describe('ACL properties', () => {
  it('no role publishes outside what a client may write', () => {
    fc.assert(
      fc.property(topic, fc.boolean(), fc.constantFrom(...Object.values(principals)), (t, retain, who) => {
        const decision = decidePublish(who, t, retain, HALL);
        if (!decision.allowed) return;
        const levels = t.split('/');
        expect(levels.slice(0, 2)).toEqual(['hall', HALL]);
        expect(isClientWritable(levels.slice(2))).toBe(true);
        expect(t).not.toMatch(/[+#]/);
      }),
      { numRuns: 5000 },
    );
  });

  it('a device publishes and subscribes only in its own namespaces (plus bridge/state)', () => {
    fc.assert(
      fc.property(topic, fc.boolean(), (t, retain) => {
        const own = t.startsWith(`${base}/device/kiosk-1/`) || t === `${base}/device/kiosk-1`;
        const ownNotify = [`${base}/notify/kiosk-1/result`, `${base}/notify/kiosk-1/state`];
        if (decidePublish(device, t, retain, HALL).allowed) expect(own || ownNotify.includes(t)).toBe(true);
        if (decideSubscribe(device, t, HALL).allowed) expect(own || t === `${base}/bridge/state` || t === `${base}/notify/kiosk-1`).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('no client ever publishes a retained message', () => {
    fc.assert(
      fc.property(topic, fc.constantFrom(...Object.values(principals)), (t, who) => {
        expect(decidePublish(who, t, true, HALL).allowed).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('a display reads only bridge/state, display and queue/<id>, and never publishes', () => {
    const publicFilter = new RegExp(`^${base}/(bridge/state|display|queue/(\\+|[^/+#]+))$`);
    fc.assert(
      fc.property(fc.oneof(topic, fc.constantFrom(`${base}/display`, `${base}/queue/+`, `${base}/queue/A`, `${base}/bridge/state`)), fc.boolean(), (t, retain) => {
        expect(decidePublish(display, t, retain, HALL).allowed).toBe(false);
        expect(decideSubscribe(display, t, HALL).allowed).toBe(publicFilter.test(t));
      }),
      { numRuns: 5000 },
    );
  });

  it('observers never publish; non-admins never subscribe outside the base', () => {
    fc.assert(
      fc.property(topic, fc.boolean(), (t, retain) => {
        expect(decidePublish(observer, t, retain, HALL).allowed).toBe(false);
        for (const who of [device, operator, observer, display]) {
          if (decideSubscribe(who, t, HALL).allowed) expect(t.startsWith(`${base}/`)).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('mayReceive', () => {
  const guard = receiveGuard(HALL);
  const gateway: Principal = { username: 'sms-1', role: 'device', deviceId: 'sms-1' };
  const everyone = [device, operator, observer, admin, gateway];

  it('a notice goes to its gateway alone, whatever the others subscribed to', () => {
    for (const topic of [`${base}/notify/sms-1`, `${base}/notify/sms-1/result`, `${base}/notify/sms-1/state`]) {
      expect(everyone.filter((who) => mayReceive(who, topic, guard))).toEqual([gateway]);
    }
    expect(mayReceive(gateway, `${base}/notify/sms-2`, guard)).toBe(false);
    expect(mayReceive(undefined, `${base}/notify/sms-1`, guard)).toBe(false);
  });

  it('requests (which may carry a contact) go to no client; the rest to everyone subscribed', () => {
    for (const topic of [`${base}/bridge/request/issue`, `${base}/device/kiosk-1/issue`, `$hall-edge/refused/${base}/bridge/request/issue`]) {
      expect(everyone.filter((who) => mayReceive(who, topic, guard))).toEqual([]);
    }
    for (const topic of [`${base}/event`, `${base}/bridge/response/issue`, `${base}/device/kiosk-1/played`, `${base}/queue/a`, 'hall/other/notify/sms-1']) {
      expect(everyone.filter((who) => mayReceive(who, topic, guard))).toEqual(everyone);
    }
  });
});

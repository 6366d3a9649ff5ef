import { describe, expect, it } from 'vitest';
import { parseArrivalsCsv } from '../../src/sim/arrivals-csv.js';
import { configHandling } from '../../src/sim/handling.js';
import { localToEpoch } from '../../src/sim/local-time.js';
import { planSimulation } from '../../src/sim/plan.js';
import { runSweep } from '../../src/sim/sweep.js';
import { applySkills, parseWindowCounts, resizeWindows } from '../../src/sim/variants.js';
import { DEFAULT_BEHAVIOUR } from '../../src/sim/visitor.js';
import { smallModel } from '../support/model.js';

const DATE = '2026-11-23';

describe('what-if parts', () => {
  it('reads arrivals from CSV and names the line of a bad cell', () => {
    const model = smallModel();
    const options = { model, date: DATE, seed: 1, handling: configHandling(model.services, 'fixed'), behaviour: DEFAULT_BEHAVIOUR };
    const visitors = parseArrivalsCsv('\uFEFFtime,service,priority,items,appointment\n09:05,mi,true,2,\n09:00:30,ss,,,10:00-10:30\n', options);
    expect(visitors.map((v) => [v.serviceId, v.priority, v.items, v.channel])).toEqual([
      ['ss', false, 1, 'appointment'],
      ['mi', true, 2, 'kiosk'],
    ]);
    expect(visitors[0]!.arriveAt).toBe(localToEpoch(DATE, 9 * 60, 'Asia/Shanghai') + 30_000);
    expect(visitors[0]!.appointment).toEqual({ slotStart: localToEpoch(DATE, 600, 'Asia/Shanghai'), slotEnd: localToEpoch(DATE, 630, 'Asia/Shanghai') });
    expect(visitors[1]!.handlingMs).toBe(6 * 60_000); // mi's configured 6 minutes, fixed
    expect(() => parseArrivalsCsv('time,service\n25:00,ss\n', options)).toThrow(/line 2: time "25:00"/);
    expect(() => parseArrivalsCsv('time,service\n09:00,zz\n', options)).toThrow(/line 2: unknown service "zz"/);
    expect(() => parseArrivalsCsv('when,what\n', options)).toThrow(/line 1/);
  });

  it('grows and shrinks a hall in its own proportions, never below one window of a kind', () => {
    const model = smallModel(); // w1 [ss, mi], w2 [mi, ss], w3 [rt], w4 priority [ss, mi, rt]: four kinds
    expect(resizeWindows(model, 6).windows.map((w) => w.id)).toEqual(['w1', 'w2', 'w3', 'w4', 'w1+1', 'w2+1']);
    expect(resizeWindows(model, 6).windows.map((w) => w.number)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => resizeWindows(model, 3)).toThrow(/cannot go below 4 windows/);
    expect(parseWindowCounts('28..30')).toEqual([28, 29, 30]);
    expect(parseWindowCounts('30,32')).toEqual([30, 32]);
    expect(() => parseWindowCounts('30..28')).toThrow();
  });

  it('applies skills overrides, weighted when a weight is given', () => {
    const changed = applySkills(smallModel(), 'w1,w2=mi;w3=rt*3,ss');
    expect(changed.windows.find((w) => w.id === 'w2')!.skills).toEqual([{ serviceId: 'mi', weight: 1 }]);
    expect(changed.windows.find((w) => w.id === 'w3')).toMatchObject({ skillMode: 'weighted', skills: [{ serviceId: 'rt', weight: 3 }, { serviceId: 'ss', weight: 1 }] });
    expect(() => applySkills(smallModel(), 'w9=ss')).toThrow(/unknown window "w9"/);
    expect(() => applySkills(smallModel(), 'w1=zz')).toThrow(/unknown service "zz"/);
  });

  it('runs every variant on the same visitors and answers the target with the fewest windows', () => {
    const model = smallModel();
    const plan = planSimulation(model, { tickets: 400, profile: 'morning-peak', windows: '4..8', seed: 3, date: DATE });
    const result = runSweep({ variants: plan.variants, days: plan.days, targetP90Minutes: 30 });
    // Retirement's daily cap of 5 refuses the rest of its visitors, on every variant alike.
    expect(result.variants.map((v) => v.overall.issued + v.overall.refused)).toEqual([400, 400, 400, 400, 400]);
    expect(new Set(result.variants.map((v) => v.overall.issued)).size).toBe(1);
    expect(result.variants[0]!.services.rt!.issued).toBe(5);
    // Same visitors: more windows never lengthen the worst wait on this day.
    const maxes = result.variants.map((v) => v.overall.waitMax);
    for (let i = 1; i < maxes.length; i += 1) expect(maxes[i]!).toBeLessThanOrEqual(maxes[i - 1]! + 1);
    const target = result.target!;
    const meeting = target.worst.filter((w) => w.p90 <= 30).map((w) => w.windows);
    expect(target.windows).toBe(meeting.length > 0 ? Math.min(...meeting) : undefined);
    // The same seed gives the same day.
    const again = runSweep({ variants: plan.variants, days: planSimulation(model, { tickets: 400, profile: 'morning-peak', windows: '4..8', seed: 3, date: DATE }).days });
    expect(again.variants).toEqual(result.variants);
  });
});

import { bridgeRequest, RequestError } from '../../src/device-contract/index.js';
import type { DispenserDriver } from './driver.js';
import { appointmentsRequest, reprintRequest } from './options.js';

/** The dispenser's `bridge/request/...` commands (the same work as its device topics, for operators and the central server). */
export const dispenserBridgeRequests = [
  bridgeRequest({
    name: 'reprint',
    schema: reprintRequest,
    fanOut: { to: 'first' },
    handle: async (driver, { number }) => {
      const outcome = await (driver as DispenserDriver).reprint(number);
      if (!outcome.ok) throw new RequestError(outcome.code, outcome.message);
      return { number: outcome.number };
    },
  }),
  bridgeRequest({
    name: 'appointments-import',
    schema: appointmentsRequest,
    fanOut: { to: 'each', listKey: 'dispensers' },
    handle: (driver, { appointments }) => (driver as DispenserDriver).loadAppointments(appointments),
  }),
];

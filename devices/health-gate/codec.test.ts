import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_REGISTER_MAP, decodeSample, encodeStatus, encodeTemperature, inputBlock, registerMapSchema } from './registers.js';
import { DEFAULT_SCAN_RULES, MAX_SCAN_LENGTH, createScanClassifier } from './scan-rules.js';
import { classifyModbusError, parseTcpTarget } from './modbus-link.js';
import { mbapRequest, MbapReader } from './modbus-tcp-codec.js';
import { crc16modbus, readInputRegistersRequest, RtuAnswerFramer, writeCoilRequest, type RtuAnswer } from './modbus-rtu-codec.js';
import { healthGateOptionsSchema } from './options.js';

const vectors = JSON.parse(readFileSync(new URL('../../firmware-protocols/vectors/health-gate.json', import.meta.url), 'utf8')) as {
  samples: Array<{ name: string; inputRegisters: number[]; expect: unknown }>;
  thresholdRegister: Array<{ celsius: number; register: number }>;
  scans: Array<{ line: string; expect: Record<string, unknown> }>;
};

describe('register map codec', () => {
  it('has vectors to check', () => {
    expect(vectors.samples.length).toBeGreaterThan(3);
    expect(vectors.scans.length).toBeGreaterThan(5);
  });

  for (const sample of vectors.samples) {
    it(`decodes: ${sample.name}`, () => {
      expect(decodeSample(DEFAULT_REGISTER_MAP, sample.inputRegisters)).toEqual(sample.expect);
    });
  }

  it('encodes the fever threshold register', () => {
    for (const v of vectors.thresholdRegister) expect(encodeTemperature(DEFAULT_REGISTER_MAP, v.celsius)).toBe(v.register);
  });

  it('reads one block for the default map and follows an overridden map', () => {
    expect(inputBlock(DEFAULT_REGISTER_MAP)).toEqual({ start: 0, length: 4 });
    const other = registerMapSchema.parse({ bodyTemperature: 100, ambientTemperature: null, status: 102, sequence: 101, temperatureScale: 0.01, bits: { presence: 4, sensorFault: 7 } });
    expect(inputBlock(other)).toEqual({ start: 100, length: 3 });
    expect(decodeSample(other, [3652, 9, (1 << 4) | (1 << 7)])).toEqual({
      bodyTemperature: 36.5,
      status: { presence: true, measuring: false, sensorFault: true, outOfRange: false },
      sequence: 9,
    });
    expect(() => inputBlock(registerMapSchema.parse({ sequence: 500 }))).toThrow(/125/);
  });

  it('round-trips status bits', () => {
    fc.assert(
      fc.property(fc.record({ presence: fc.boolean(), measuring: fc.boolean(), sensorFault: fc.boolean(), outOfRange: fc.boolean() }), (status) => {
        const word = encodeStatus(DEFAULT_REGISTER_MAP, status);
        expect(decodeSample(DEFAULT_REGISTER_MAP, [0, 0, word, 0]).status).toEqual(status);
      }),
    );
  });

  it('refuses a short read with a clear error', () => {
    expect(() => decodeSample(DEFAULT_REGISTER_MAP, [365, 240])).toThrow(/expected 4 input registers, got 2/);
  });
});

describe('scan rules', () => {
  const classifier = createScanClassifier(DEFAULT_SCAN_RULES);

  for (const scan of vectors.scans) {
    it(`classifies ${JSON.stringify(scan.line)}`, () => {
      expect(classifier.classify(scan.line)).toMatchObject(scan.expect);
    });
  }

  it('never throws and never echoes the payload in a refusal', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (line) => {
        const result = classifier.classify(`SECRET${line}`);
        expect(JSON.stringify(result)).not.toContain('SECRET');
      }),
    );
    expect(classifier.classify('x'.repeat(MAX_SCAN_LENGTH + 1))).toMatchObject({ readable: false, reason: 'too-long' });
  });

  it('takes a hall rule from config: JSON path and token map', () => {
    const custom = createScanClassifier([{ json: 'data.health.level', map: { '0': 'green', '1': 'yellow', '2': 'red' } }]);
    expect(custom.classify('{"data":{"health":{"level":"2"}}}')).toEqual({ readable: true, colour: 'red' });
    expect(custom.classify('{"data":{"health":{"level":"9"}}}')).toMatchObject({ readable: false, reason: 'unknown-colour' });
  });
});

describe('options and errors', () => {
  it('fills the documented defaults', () => {
    const options = healthGateOptionsSchema.parse({ modbus: { rtu: { port: '/dev/ttyUSB0' } }, scanner: { port: '/dev/ttyACM0' } });
    expect(options).toMatchObject({
      modbus: { rtu: { port: '/dev/ttyUSB0', baudRate: 9600, parity: 'none' } },
      unitId: 1,
      pollMs: 200,
      timeoutMs: 500,
      policy: { requireTemperature: true, requireHealthCode: true, feverThreshold: 37.3, passColours: ['green'], scanWindowSeconds: 10 },
      gate: { output: 'modbus-coil', openSeconds: 3 },
      alarmSeconds: 5,
      storeScanPayload: false,
    });
    expect(options.registers).toEqual(DEFAULT_REGISTER_MAP);
  });

  it('tells the operator what is missing', () => {
    const result = healthGateOptionsSchema.safeParse({ modbus: { tcp: '10.0.0.5:502' } });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('no scanner is configured');
    expect(healthGateOptionsSchema.safeParse({ modbus: { tcp: 'nohost' }, policy: { requireHealthCode: false } }).success).toBe(false);
    expect(healthGateOptionsSchema.safeParse({ modbus: { tcp: 'h:1' }, policy: { requireHealthCode: false }, scanner: { port: 'p', rules: [{ match: '(' }] } }).success).toBe(false);
  });

  it('parses TCP targets and classifies modbus-serial errors', () => {
    expect(parseTcpTarget('10.0.0.5:502')).toEqual({ host: '10.0.0.5', port: 502 });
    expect(() => parseTcpTarget('10.0.0.5:0')).toThrow(/host:port/);
    expect(classifyModbusError({ name: 'TransactionTimedOutError', message: 'Timed out', errno: 'ETIMEDOUT' }).kind).toBe('timeout');
    expect(classifyModbusError(new Error('CRC error')).kind).toBe('crc');
    expect(classifyModbusError(Object.assign(new Error('Modbus exception 4: Slave device failure'), { modbusCode: 4 }))).toMatchObject({ kind: 'exception', exceptionCode: 4 });
    expect(classifyModbusError({ message: 'Port Not Open', errno: 'ECONNREFUSED' }).kind).toBe('port');
    expect(classifyModbusError('weird').kind).toBe('other');
  });
});

describe('Modbus RTU frames (the master side, on the shared serial link)', () => {
  it('builds requests with the CRC-16/MODBUS of the spec', () => {
    expect(crc16modbus(Buffer.from('123456789'))).toBe(0x4b37); // the catalogued check value
    // Read 2 input registers from 0 at unit 1: the example frame of the Modbus literature.
    expect(readInputRegistersRequest(1, 0, 2).toString('hex')).toBe('01040000000271cb');
    expect(writeCoilRequest(1, 8, true).toString('hex')).toBe('01050008ff000df8');
  });

  it('frames answers split at every point, and reports a damaged one as a CRC error', () => {
    const answer = Buffer.from('0104040171000a', 'hex'); // unit 1, fc 4, 4 bytes: 0x0171, 0x000a
    const good = Buffer.concat([answer, Buffer.from([0, 0])]);
    good.writeUInt16LE(crc16modbus(answer), answer.length);
    for (let split = 0; split <= good.length; split++) {
      const framer = new RtuAnswerFramer();
      const out: RtuAnswer[] = [];
      framer.on('data', (a: RtuAnswer) => out.push(a));
      framer.write(good.subarray(0, split));
      framer.write(good.subarray(split));
      expect(out).toEqual([{ crcOk: true, unit: 1, functionCode: 4, data: Buffer.from('040171000a', 'hex') }]);
    }
    const damaged = Buffer.from(good);
    damaged[4] = damaged[4]! ^ 0xff;
    const framer = new RtuAnswerFramer();
    const out: RtuAnswer[] = [];
    framer.on('data', (a: RtuAnswer) => out.push(a));
    framer.write(damaged);
    framer.write(good); // the next answer is framed cleanly after the damaged one
    expect(out.map((a) => a.crcOk)).toEqual([false, true]);
  });
});

describe('Modbus TCP frames (the client side, on the shared TCP link)', () => {
  it('builds the MBAP header around the request PDU (Modbus application protocol example: read input registers)', () => {
    // transaction 0x0001, protocol 0, length 6, unit 1, FC 04, address 0x0000, count 0x0004
    expect(mbapRequest(1, 1, 0x04, 0, 4).toString('hex')).toBe('000100000006010400000004');
    expect(mbapRequest(0x12345, 17, 0x05, 8, 0xff00).toString('hex')).toBe('23450000000611050008ff00'); // the id wraps at 16 bits
  });

  it('cuts answers out of a stream split anywhere, keeping their transaction ids', () => {
    const answer = (transaction: number, pdu: number[]): Buffer => {
      const head = Buffer.alloc(7);
      head.writeUInt16BE(transaction, 0);
      head.writeUInt16BE(pdu.length + 1, 4);
      head[6] = 1;
      return Buffer.concat([head, Buffer.from(pdu)]);
    };
    const stream = Buffer.concat([answer(7, [0x04, 0x04, 0x01, 0x6d, 0x00, 0x01]), answer(8, [0x84, 0x02])]);
    for (let cut = 1; cut < stream.length; cut++) {
      const reader = new MbapReader();
      const answers = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      expect(answers).toEqual([
        { ok: true, transaction: 7, unit: 1, functionCode: 0x04, data: Buffer.from([0x04, 0x01, 0x6d, 0x00, 0x01]) },
        { ok: true, transaction: 8, unit: 1, functionCode: 0x84, data: Buffer.from([0x02]) },
      ]);
    }
  });

  it('refuses bytes that are not Modbus TCP (protocol id, impossible length) and starts clean after them', () => {
    const reader = new MbapReader();
    expect(reader.push(Buffer.from('000100070006010400000004', 'hex'))).toEqual([{ ok: false, bytes: Buffer.from('000100070006010400000004', 'hex') }]);
    expect(reader.push(Buffer.from('00010000ffff01', 'hex'))).toMatchObject([{ ok: false }]);
    expect(reader.push(Buffer.from('0002000000030184', 'hex'))).toEqual([]); // waiting for the last byte
    expect(reader.push(Buffer.from('03', 'hex'))).toEqual([{ ok: true, transaction: 2, unit: 1, functionCode: 0x84, data: Buffer.from([0x03]) }]);
  });
});

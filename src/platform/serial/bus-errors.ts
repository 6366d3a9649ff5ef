/** Errors a bus transaction can end with; drivers branch on the class, operators read the message. */

export class BusTimeoutError extends Error {
  constructor(
    readonly key: string,
    readonly attempts: number,
    readonly timeoutMs: number,
  ) {
    super(`device ${key} did not answer (${attempts} attempt(s), ${timeoutMs} ms each): check its address, wiring and power`);
    this.name = 'BusTimeoutError';
  }
}

export class BusLinkDownError extends Error {
  constructor(readonly path: string) {
    super(`serial link ${path} is down: check the USB/RS-485 adapter`);
    this.name = 'BusLinkDownError';
  }
}

export class BusClosedError extends Error {
  constructor() {
    super('bus closed');
    this.name = 'BusClosedError';
  }
}

/** A frame dropped before it went out, because what it carried was replaced (TransactOptions.stillWanted). */
export class BusSupersededError extends Error {
  constructor(readonly key: string) {
    super(`frame for device ${key} dropped: a newer one replaces it`);
    this.name = 'BusSupersededError';
  }
}

/**
 * The usual wiring of a hall's LED bus: one display per window, addressed by the window's
 * number, and the main hall display at its own address. Used by the demo hall and the bench so
 * both drive the same layout.
 */
export const HALL_DISPLAY_ADDRESS = 100;
export const HALL_LED_BAUD = 57600;

export function hallBusDisplays(windows: ReadonlyArray<{ id: string; number: number }>): Array<Record<string, unknown>> {
  return [
    ...windows.map((w) => ({ address: w.number, window: w.id, role: 'window', width: 128, height: 32 })),
    { address: HALL_DISPLAY_ADDRESS, role: 'hall', width: 384, height: 192 },
  ];
}

export function hallBusAddresses(windows: ReadonlyArray<{ number: number }>): number[] {
  return [...windows.map((w) => w.number), HALL_DISPLAY_ADDRESS];
}

/** A `led-bx5k` device entry for that layout on one bus. */
export function hallBusDevice(id: string, port: string, windows: ReadonlyArray<{ id: string; number: number }>): { id: string; kind: 'led-bx5k'; options: Record<string, unknown> } {
  return { id, kind: 'led-bx5k', options: { port, baudRate: HALL_LED_BAUD, displays: hallBusDisplays(windows) } };
}

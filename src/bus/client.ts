import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/**
 * mqtt.js leaves Nagle's algorithm on for its TCP socket. A client that publishes a request
 * right after acknowledging the previous response then waits for the broker's delayed ACK
 * (40 ms on Linux) before its request leaves. Every MQTT client the hall runs (CLI, demo
 * devices, simulators, tests, benchmarks) connects through here so round trips take
 * milliseconds, not 44 ms each. (The broker's side is in listeners.ts.)
 */
export async function connectMqtt(url: string, options: IClientOptions): Promise<MqttClient> {
  return withNoDelay(await mqtt.connectAsync(url, options));
}

/** The same, without waiting for the connection (for clients that reconnect by themselves). */
export function createMqttClient(url: string, options: IClientOptions): MqttClient {
  return withNoDelay(mqtt.connect(url, options));
}

/** Turns Nagle off now and on every reconnect (each builds a new socket). */
function withNoDelay(client: MqttClient): MqttClient {
  setNoDelay(client);
  client.on('connect', () => setNoDelay(client));
  return client;
}

function setNoDelay(client: MqttClient): void {
  // A TCP or TLS socket has setNoDelay; a WebSocket stream does not (ws turns Nagle off itself).
  const stream = client.stream as Partial<{ setNoDelay(noDelay: boolean): unknown }> | undefined;
  stream?.setNoDelay?.(true);
}

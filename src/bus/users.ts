/** Who may connect to the hall's broker, as written in the config. */
export type Role = 'device' | 'operator' | 'observer' | 'admin' | 'display';

/** `display`: a hall TV (the `/display` page), which may read only the public documents (acl.ts). */
export const ROLES: readonly Role[] = ['device', 'operator', 'observer', 'admin', 'display'];

export interface MqttUser {
  username: string;
  /** `scrypt$N$r$p$salt$hash`, made by `hall-edge passwd` (hashPassword). */
  passwordHash: string;
  role: Role;
  /** Required for role `device`: the device's own topic level under `device/`. */
  deviceId?: string;
}

/** An authenticated connection's identity, as the ACL and the request handlers see it. */
export interface Principal {
  username: string;
  role: Role;
  deviceId?: string;
}

/** One MQTT topic level: no separators, no wildcards, not empty. */
export function isTopicLevel(text: string): boolean {
  return text.length > 0 && !/[/+#\u0000]/.test(text);
}

/**
 * Owner ids are `host/pid/instance`: unique per kernel instance, and telling a kernel on the same
 * host whether the holder's process still exists, so recovery after a crash need not wait for the
 * lease to expire.
 */
export function formatOwnerId(host: string, pid: number, instance: string): string {
  return `${host}/${pid}/${instance}`;
}

export function parseOwnerId(ownerId: string): { host: string; pid: number; instance: string } | undefined {
  const match = /^(.*)\/(\d+)\/([^/]+)$/.exec(ownerId);
  if (!match) return undefined;
  return { host: match[1]!, pid: Number(match[2]), instance: match[3]! };
}

/** True when `ownerId` names a process on `host` that the probe says is gone. */
export function isOwnerProvablyDead(ownerId: string, host: string, isAlive: (pid: number) => boolean): boolean {
  const parsed = parseOwnerId(ownerId);
  return parsed !== undefined && parsed.host === host && !isAlive(parsed.pid);
}

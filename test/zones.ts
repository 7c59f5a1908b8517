/**
 * A fixed-offset zone whose local time is now about `hour`:00, so that tests running at any
 * time of day find the compliance gate open (or closed) as they need.
 */
export function zoneAtLocalHour(hour: number, now = Date.now()): string {
  const offset = ((((hour - new Date(now).getUTCHours()) % 24) + 36) % 24) - 12;
  return offset === 0 ? "Etc/UTC" : `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`;
}

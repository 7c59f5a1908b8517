/**
 * Milliseconds in an ISO-8601 duration of days, hours, minutes and seconds.
 * @example durationMs("PT1H30M") // 5400000
 */
export function durationMs(iso: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso);
  if (!m || iso === "P" || iso.endsWith("T")) throw new Error(`not an ISO-8601 duration: ${iso}`);
  const [d, h, min, s] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number];
  return (((d * 24 + h) * 60 + min) * 60 + s) * 1000;
}

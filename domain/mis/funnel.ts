/**
 * The contact funnel and outcome measures of a report cell, as summed from the rollup, and
 * the rates derived from them (definitions: shared MIS reference, README "Reports").
 * Money is the exact decimal text of minor units: sums can pass 2^53, and JSON has no exact
 * big integers.
 */
export interface Measures {
  /** Accounts enrolled, and their outstanding balance at enrolment (minor units). */
  enrolled: number;
  outstandingMinor: string;
  /** Accounts worked: at least one attempt handed to a vendor. */
  touched: number;
  /** Accounts with a live contact: an RPC, a reply or a click. */
  contacted: number;
  attempted: number;
  delivered: number;
  undelivered: number;
  /** Unique email opens or WhatsApp reads. */
  opened: number;
  clicked: number;
  replied: number;
  optedOut: number;
  /** Voice: answered by a person or a machine; RPC: answered by a person who engaged. */
  connected: number;
  rpc: number;
  /** Billed units: SMS segments, voice minutes, messages. */
  units: number;
  promises: number;
  promisedMinor: string;
  promisesDue: number;
  promisesKept: number;
  conversions: number;
  /** Payments attributed to a touch (last touch) and their amount. */
  payments: number;
  recoveredMinor: string;
  /** The same payments shared equally between every eligible touch (linear view), to two decimals. */
  recoveredLinearMinor: string;
  unattributedMinor: string;
  /** Every payment since enrolment. */
  collectedMinor: string;
  commissionMinor: string;
  placed: number;
  placedMinor: string;
}

export const MEASURE_NAMES = [
  "enrolled",
  "outstandingMinor",
  "touched",
  "contacted",
  "attempted",
  "delivered",
  "undelivered",
  "opened",
  "clicked",
  "replied",
  "optedOut",
  "connected",
  "rpc",
  "units",
  "promises",
  "promisedMinor",
  "promisesDue",
  "promisesKept",
  "conversions",
  "payments",
  "recoveredMinor",
  "recoveredLinearMinor",
  "unattributedMinor",
  "collectedMinor",
  "commissionMinor",
  "placed",
  "placedMinor",
] as const satisfies readonly (keyof Measures)[];

const MONEY = new Set<keyof Measures>([
  "outstandingMinor",
  "promisedMinor",
  "recoveredMinor",
  "unattributedMinor",
  "collectedMinor",
  "commissionMinor",
  "placedMinor",
  "recoveredLinearMinor",
]);

/** All zero. */
export function emptyMeasures(): Measures {
  return Object.fromEntries(MEASURE_NAMES.map((n) => [n, MONEY.has(n) ? "0" : 0])) as unknown as Measures;
}

/** A share, or null when the denominator is zero (never NaN or Infinity in a report). */
export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** Sums the rates need beyond the measures: voice and digital parts of a cell. */
export interface ChannelSplit {
  /** Voice attempts (calls placed). */
  callsPlaced: number;
  /** Delivered and undelivered SMS, WhatsApp and email (terminal states). */
  digitalDelivered: number;
  digitalUndelivered: number;
  /** Delivered email and WhatsApp: what can be opened or read (an SMS cannot). */
  openableDelivered: number;
  /** Delivered email: the only channel whose clicks are tracked. */
  clickableDelivered: number;
}

export interface Rates {
  deliveryRate: number | null;
  openRate: number | null;
  clickRate: number | null;
  replyRate: number | null;
  optOutRate: number | null;
  connectRate: number | null;
  rpcRate: number | null;
  contactRate: number | null;
  ptpRate: number | null;
  keptRate: number | null;
  conversionRate: number | null;
  recoveryRate: number | null;
}

/**
 * The rates of a cell (null where the denominator is zero). Delivery, reply and opt-out rates
 * are over digital messages; open / read rate over delivered email and WhatsApp, click rate
 * over delivered email (the messages that can be opened or clicked; voice has connect and RPC
 * rates over calls placed); PTP rate is promises over RPCs plus digital deliveries; contact and conversion
 * rates are per account worked; recovery rate is collected over outstanding at enrolment.
 * @example rates({ ...emptyMeasures(), delivered: 9 }, { callsPlaced: 0, digitalDelivered: 9, digitalUndelivered: 1, openableDelivered: 0, clickableDelivered: 0 }).deliveryRate // 0.9
 */
export function rates(m: Measures, split: ChannelSplit): Rates {
  return {
    deliveryRate: ratio(split.digitalDelivered, split.digitalDelivered + split.digitalUndelivered),
    openRate: ratio(m.opened, split.openableDelivered),
    clickRate: ratio(m.clicked, split.clickableDelivered),
    replyRate: ratio(m.replied, split.digitalDelivered),
    optOutRate: ratio(m.optedOut, split.digitalDelivered),
    connectRate: ratio(m.connected, split.callsPlaced),
    rpcRate: ratio(m.rpc, split.callsPlaced),
    contactRate: ratio(m.contacted, m.touched),
    ptpRate: ratio(m.promises, m.rpc + split.digitalDelivered),
    keptRate: ratio(m.promisesKept, m.promisesDue),
    conversionRate: ratio(m.conversions, m.touched),
    recoveryRate: ratio(Number(m.collectedMinor), Number(m.outstandingMinor)),
  };
}

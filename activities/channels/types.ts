import type { Account, Campaign } from "../../generated/prisma/client.ts";
import type { AdvancedAttempt } from "../../store/attempts.ts";
import type { VendorFailure } from "../vendor-errors.ts";

/** What a channel sender gets for one reserved attempt. */
export interface SendRequest {
  attemptId: string;
  account: Account;
  campaign: Campaign;
  stepId: string;
  /** The strategy step's template name. */
  template: string;
  /**
   * A previous try of this attempt may have reached the vendor (it died between the call
   * and storing the vendor's id): the sender must look for that message before sending.
   */
  mayHaveSent: boolean;
  /** When that previous try started. */
  since: Date;
}

export interface Sent {
  vendorId: string;
  /** The vendor's status in its answer (queued, accepted, ...). */
  status: string;
  /** Billed units when the vendor says (SMS segments); unknown: one message. */
  units?: number;
}

/** One channel's way to the debtor. Senders throw; `classify` tells transient from permanent. */
export interface ChannelSender {
  vendor: "twilio" | "sendgrid";
  send(request: SendRequest): Promise<Sent>;
  classify(error: unknown): VendorFailure;
  /** Applies callbacks that arrived before the vendor id was stored; returns the latest state. */
  applyPending(vendorId: string): Promise<AdvancedAttempt | undefined>;
}

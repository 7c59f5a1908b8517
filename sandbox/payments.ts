/**
 * The payment gateway's side of the sandbox: a debtor a contact reached pays, as the mix's
 * `payments` draws, and the gateway notifies us as the real one does (signed JSON with a
 * unique reference, redelivered per `duplicates`).
 */
import { randomUUID } from "node:crypto";
import { signTagihPayload } from "../vendors/tagih-signature.ts";
import type { SandboxContext } from "./context.ts";
import { drawPayment } from "./outcomes.ts";
import type { Rng } from "./random.ts";

/**
 * Draws whether the debtor of a contact that reached them pays and, if so, notifies the
 * payment webhook. Call it last in a resource's flow: it draws from `rng` only when the mix
 * has payments, so the draws before it stay as they were.
 */
export async function maybePay(ctx: SandboxContext, rng: Rng, contact: { channel: "sms" | "whatsapp" | "voice" | "email"; vendorId: string }): Promise<void> {
  const gateway = ctx.payments;
  if (!gateway) return;
  const share = drawPayment(rng, ctx.outcomes());
  if (!share) return;
  const payer = await gateway.payer(contact);
  if (!payer || payer.amountMinor <= 0n) return;
  const half = payer.amountMinor / 2n;
  const amountMinor = share === "full" || half === 0n ? payer.amountMinor : half;
  const reference = `SBX-${randomUUID()}`;
  const body = JSON.stringify({
    reference,
    accountId: payer.accountId,
    amountMinor: String(amountMinor),
    currency: payer.currency,
    paidAt: new Date().toISOString(),
  });
  ctx.logger.info({ reference, vendorId: contact.vendorId, share }, "sandbox payment made");
  await ctx.queue.deliver(
    {
      kind: "payment",
      resourceId: reference,
      url: gateway.url,
      body,
      headers: () => ({ "content-type": "application/json", "x-tagih-signature": signTagihPayload(gateway.secret, body) }),
    },
    rng,
  );
}

import type { Middleware } from "h3";
import { useGatewayContext, type GatewayContext, type Outcome } from "../context";
import type { Logger } from "../runtime";

/**
 * Runs every settler once: the thread is saved and its lease released, the real usage
 * charged and the rest of the reservation released, the token window corrected. They
 * touch separate state, so they run side by side (one round-trip time, not the sum).
 * One failing settler never stops the others.
 */
export async function settle(ctx: GatewayContext, outcome: Outcome, logger: Logger): Promise<void> {
  if (ctx.settled) return;
  ctx.settled = true;
  // Settlers give back what was kept alive; a beat now would find it gone.
  ctx.heartbeat?.stop();
  await Promise.all(
    ctx.settlers.map(async (settler) => {
      try {
        await settler(outcome);
      } catch (error) {
        logger.error("agentgate: a settle step failed", String(error));
      }
    }),
  );
}

/**
 * The chain's outermost step: whatever a later step acquired is settled when the
 * request fails, so no reservation or lease is ever left behind. Success paths settle
 * in dispatch (before the JSON answer, or at the end of the stream).
 */
export function settlement(logger: Logger): Middleware {
  return async function settlement(event, next) {
    try {
      return await next();
    } catch (error) {
      await settle(useGatewayContext(event), { error }, logger);
      throw error;
    }
  };
}

// A whole agentgate server in one file: run it with `npx tsx examples/quick-start.ts`.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { createGateway, echo, signAdminToken } from "agentgate";
import { toNodeListener } from "agentgate/node";

// Admin tokens are signed with ADMIN_SECRET (32+ random bytes); unset, with a random secret that lives as long as this process.
const adminSecret = process.env.ADMIN_SECRET || randomBytes(32).toString("base64url");
const gateway = createGateway({
  admin: { secret: adminSecret },
  providers: [echo()],
  limits: { requestsPerMinute: 60, tokensPerMinute: 200_000 },
});

// Set up an agent for account "acct_1", give it a key and some credit (in-process admin API).
const agent = await gateway.admin.createAgent("acct_1", { name: "Ada", instructions: "You are Ada, a helpful assistant." });
const { key } = await gateway.admin.createKey("acct_1", agent.id, { name: "laptop" });
await gateway.admin.credit("acct_1", 1_000_000); // $1.00, in micro-USD

const server = createServer(toNodeListener(gateway)).listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
console.log(`OPENAI_BASE_URL=http://127.0.0.1:${process.env.PORT ?? 3000}/api/v1 OPENAI_API_KEY=${key}`);
console.log(`ADMIN_TOKEN=${await signAdminToken(adminSecret, "acct_1")} (the admin API of acct_1, for an hour)`);

export { gateway, server };

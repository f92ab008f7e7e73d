// agentgate in an Express app (4 or 5), under /llm: /llm/v1/... and /llm/admin/...
import express from "express";
import { createGateway, echo } from "agentgate";
import { agentgate } from "agentgate/express";

// Admin tokens are checked with ADMIN_SECRET: never run with a secret someone else can read.
if (!process.env.ADMIN_SECRET) throw new Error("Set ADMIN_SECRET to 32+ random bytes, e.g. ADMIN_SECRET=$(openssl rand -base64 32)");
const gateway = createGateway({
  basePath: "/llm", // where the routes live: the same path the middleware is mounted at
  admin: { secret: process.env.ADMIN_SECRET },
  providers: [echo({ delayMs: 20 })],
});

const app = express();
app.use("/llm", agentgate(gateway)); // first: the gateway reads its own bodies (1 MiB, OpenAI's errors)
app.use(express.json()); // for your own routes, after the gateway
app.get("/llm/status", (_req, res) => res.json({ ok: true })); // not the gateway's: reached through next()

const server = app.listen(Number(process.env.PORT ?? 3000));

export { app, gateway, server };

// agentgate inside an existing node:http server: /api/v1/... and /api/admin/... go to
// the gateway, every other request to your own handler, untouched.
import { createServer } from "node:http";
import { createGateway, echo } from "agentgate";
import { mountGateway } from "agentgate/node";

// Admin tokens are checked with ADMIN_SECRET: never run with a secret someone else can read.
if (!process.env.ADMIN_SECRET) throw new Error("Set ADMIN_SECRET to 32+ random bytes, e.g. ADMIN_SECRET=$(openssl rand -base64 32)");
const gateway = createGateway({
  admin: { secret: process.env.ADMIN_SECRET },
  providers: [echo({ delayMs: 20 })], // 20 ms between words, to watch it stream
});
const api = mountGateway(gateway);

const server = createServer((req, res) =>
  api(req, res, () => {
    res.setHeader("content-type", "text/plain");
    res.end(`Your app answers ${req.url}\n`);
  }),
).listen(Number(process.env.PORT ?? 3000));

export { gateway, server };

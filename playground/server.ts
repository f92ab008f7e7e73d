import { createServer } from "node:http";
import { mountGateway } from "../adapters/node";
import { signAdminToken } from "../src/index";
import { createPlaygroundGateway } from "./app";
import { browserURL, readConfig } from "./config";
import { createPlaygroundMetrics } from "./metrics";
import { createPlaygroundRoutes } from "./routes";
import { seedPlayground } from "./seed";

// `npm start`: the runnable server, and the reference for mounting the library.
const config = readConfig();
const metrics = createPlaygroundMetrics();
const gateway = await createPlaygroundGateway(config, { telemetry: metrics.telemetry });
const seeded = await seedPlayground(gateway);
const adminToken = await signAdminToken(config.adminSecret, seeded.accountId, { expiresIn: "30d" });

// The gateway owns /api/v1 and /api/admin; everything else is the page and its helpers.
const api = mountGateway(gateway);
const page = createPlaygroundRoutes({ gateway, accountId: seeded.accountId, adminToken, host: config.host });
const server = createServer((req, res) => api(req, res, () => (req.method === "GET" && req.url === "/metrics" ? metrics.serve(req, res) : page(req, res))));
server.listen(config.port, config.host, () => {
  const url = browserURL(config.host, config.port);
  const lines = [
    "",
    `agentgate playground: ${url}`,
    `  API base URL:  ${url}/api/v1   (storage: ${config.storage}${config.redisUrl ? ", atomics: redis" : ""})`,
    `  Models:        ${gateway.catalog.list().filter((m) => m.provider).map((m) => m.name).join(", ")}`,
    seeded.key ? `  Demo API key:  ${seeded.key}   (shown once: copy it now)` : "  Demo API key:  created on the first start (create more on the page)",
    `  Admin token:   ${adminToken}`,
    "",
    `  curl ${url}/api/v1/chat/completions -H "Authorization: Bearer ${seeded.key ?? "<your a2a_ key>"}" \\`,
    `    -H "Content-Type: application/json" -d '{"model":"echo/echo","messages":[{"role":"user","content":"Hello!"}]}'`,
    "",
  ];
  process.stdout.write(lines.join("\n") + "\n");
});

const shutdown = () => {
  server.close();
  void Promise.all([gateway.close(), metrics.close()]).finally(() => process.exit(0));
};
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);

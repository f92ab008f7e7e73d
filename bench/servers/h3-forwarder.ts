// The baseline a naive gateway is: an h3 v2 app forwarding the body with the global fetch.
import { createServer } from "node:http";
import { H3 } from "h3";
import { toNodeHandler } from "h3/node";

const upstream = process.env.UPSTREAM_URL!;
const app = new H3().post("/v1/chat/completions", async (event) => {
  const response = await fetch(`${upstream}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer mock" },
    body: await event.req.text(),
  });
  return new Response(response.body, { status: response.status, headers: { "content-type": response.headers.get("content-type") ?? "application/json" } });
});
const server = createServer(toNodeHandler(app));
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(`READY ${JSON.stringify({ port: (server.address() as { port: number }).port })}`));

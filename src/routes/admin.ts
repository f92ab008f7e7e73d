import { getQuery, getRouterParam, noContent, type H3, type H3Event, type Middleware } from "h3";
import { z } from "zod";
import type { AdminOperations, PageQuery } from "../admin/operations";
import { CREDIT_SCOPE, type AdminIdentity } from "../admin/token";
import { useGatewayContext } from "../context";
import { createAPIError } from "../errors";
import { readJSONBody } from "../chain/parse";
import { creditSchema } from "../schema";
import { parseOrThrow } from "../validate";

/** Admin routes: agents, keys, billing, usage and threads of the token's account. */
export function registerAdminRoutes(app: H3, base: string, admin: AdminOperations, verify: (token: string) => Promise<AdminIdentity>, maxBodyBytes: number): void {
  const middleware = [adminAuth(verify)];
  const opts = { middleware };
  const who = (event: H3Event) => useGatewayContext(event).admin!.accountId;
  const param = (event: H3Event, name: string) => decodeURIComponent(getRouterParam(event, name) ?? "");
  const body = (event: H3Event) => readJSONBody(event, maxBodyBytes);
  const created = (event: H3Event, value: unknown) => {
    event.res.status = 201;
    event.res.statusText = "Created";
    return value;
  };

  app.post(`${base}/agents`, async (event) => created(event, await admin.createAgent(who(event), (await body(event)) as never)), opts);
  app.get(`${base}/agents`, (event) => admin.listAgents(who(event)), opts);
  app.get(`${base}/agents/:agent`, (event) => admin.getAgent(who(event), param(event, "agent")), opts);
  app.patch(`${base}/agents/:agent`, async (event) => admin.updateAgent(who(event), param(event, "agent"), (await body(event)) as never), opts);
  app.delete(`${base}/agents/:agent`, async (event) => (await admin.deleteAgent(who(event), param(event, "agent")), noContent()), opts);

  app.post(`${base}/agents/:agent/keys`, async (event) => created(event, await admin.createKey(who(event), param(event, "agent"), (await body(event)) as never)), opts);
  app.get(`${base}/agents/:agent/keys`, (event) => admin.listKeys(who(event), param(event, "agent")), opts);
  app.patch(`${base}/agents/:agent/keys/:key`, async (event) => admin.updateKey(who(event), param(event, "agent"), param(event, "key"), (await body(event)) as never), opts);
  app.delete(`${base}/agents/:agent/keys/:key`, async (event) => (await admin.deleteKey(who(event), param(event, "agent"), param(event, "key")), noContent()), opts);
  app.post(
    `${base}/agents/:agent/keys/:key/rotate`,
    async (event) => {
      // The body may be left out; when sent it must be JSON, and the operation checks `grace_seconds`.
      const { grace_seconds } = parseOrThrow(rotateKeySchema, await readJSONBody(event, maxBodyBytes, { optional: true }));
      return created(event, await admin.rotateKey(who(event), param(event, "agent"), param(event, "key"), { grace_seconds: grace_seconds as number | undefined }));
    },
    opts,
  );
  app.get(`${base}/agents/:agent/threads`, (event) => admin.listThreads(who(event), param(event, "agent"), pageQuery(event)), opts);

  app.get(`${base}/threads/:thread`, (event) => admin.getThread(who(event), param(event, "thread")), opts);
  app.delete(`${base}/threads/:thread`, async (event) => (await admin.deleteThread(who(event), param(event, "thread")), noContent()), opts);

  app.get(`${base}/billing`, (event) => admin.getBilling(who(event)), opts);
  app.post(
    `${base}/billing/credit`,
    async (event) => {
      if (!useGatewayContext(event).admin!.scopes.includes(CREDIT_SCOPE)) {
        throw createAPIError({ code: "insufficient_scope", message: `Crediting needs the \`${CREDIT_SCOPE}\` scope in the admin token.` });
      }
      const { amount_micros } = parseOrThrow(creditSchema, await body(event));
      const idempotencyKey = event.req.headers.get("idempotency-key") ?? undefined;
      return admin.credit(who(event), amount_micros, { idempotencyKey });
    },
    opts,
  );
  app.get(
    `${base}/usage`,
    (event) => {
      const { agent_id, key_id, model, thread_id, type, since, until } = getQuery(event) as Record<string, string | undefined>;
      return admin.listUsage(who(event), { agent_id, key_id, model, thread_id, type, since, until, ...pageQuery(event) });
    },
    opts,
  );
  app.get(
    `${base}/usage/summary`,
    (event) => {
      const { group_by, since, until } = getQuery(event) as Record<string, string | undefined>;
      return admin.summarizeUsage(who(event), { group_by, since, until });
    },
    opts,
  );
}

/** `POST .../rotate`: `grace_seconds` is passed on as sent, for the operation to check. */
const rotateKeySchema = z.strictObject({ grace_seconds: z.unknown().optional() });

/** `?after=&limit=`, with `limit` as a number (the operations check its range). */
function pageQuery(event: H3Event): PageQuery {
  const { after, limit } = getQuery(event) as Record<string, string | undefined>;
  return { after: after || undefined, limit: limit === undefined ? undefined : /^\d+$/.test(limit) ? Number(limit) : Number.NaN };
}

/** Verifies the admin JWT (`Authorization: Bearer <JWT>`); `sub` becomes the account. */
export function adminAuth(verify: (token: string) => Promise<AdminIdentity>): Middleware {
  return async function adminAuth(event) {
    const header = event.req.headers.get("authorization") ?? "";
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) throw createAPIError({ code: "invalid_admin_token", message: "A valid admin token is required: `Authorization: Bearer <JWT>`." });
    useGatewayContext(event).admin = await verify(token);
  };
}

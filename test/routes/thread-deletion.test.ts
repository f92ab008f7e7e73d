import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { signAdminToken } from "../../src/admin/token";
import { echo, type GatewayOptions } from "../../src/index";
import { ADMIN_SECRET, seedAgent, startGateway, type TestGateway } from "../_setup";

// Forty words at 25 ms each: a stream that runs for about a second.
const LONG = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");

const drivers: Array<[string, () => GatewayOptions]> = [
  ["in-process atomics", () => ({})],
  ["Redis atomics", () => ({ redis: inject("redisUrl"), redisPrefix: `thread-deletion-${Math.random().toString(36).slice(2)}:` })],
];

describe.each(drivers)("deleting threads and agents with requests in flight (%s)", (_name, options) => {
  let t: TestGateway;

  beforeAll(async () => {
    t = await startGateway({ ...options(), providers: [echo({ delayMs: 25 })] });
  });
  afterAll(() => t.close());

  const admin = async (method: string, path: string, accountId: string) => {
    const token = await signAdminToken(ADMIN_SECRET, accountId, { expiresIn: "5m" });
    const res = await fetch(`${t.origin}/api/admin${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  const chat = (key: string, body: Record<string, unknown>) =>
    fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "echo/echo", ...body }) });
  /** A streamed request, read up to its first chunk: from here on it holds the thread. */
  const startStream = async (key: string, threadId?: string) => {
    const res = await chat(key, { stream: true, messages: [{ role: "user", content: LONG }], ...(threadId && { thread_id: threadId }) });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    return {
      threadId: res.headers.get("x-thread-id")!,
      async finish() {
        let text = "";
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
        expect(text).toContain("[DONE]");
      },
    };
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("answers 409 thread_busy to deleting a thread while a streamed request on it runs, then deletes it for good once the request is done", async () => {
    const seeded = await seedAgent(t.gateway);
    const first = await (await chat(seeded.key, { messages: [{ role: "user", content: "hi" }] })).json();
    const stream = await startStream(seeded.key, first.thread_id);

    const busy = await admin("DELETE", `/threads/${first.thread_id}`, seeded.accountId);
    expect(busy.status).toBe(409);
    expect(busy.json.error).toMatchObject({ code: "thread_busy", type: "conflict_error" });
    expect(busy.json.error.message).toContain("retry when the request is done");
    await stream.finish();

    // The request saves its turn, then frees the thread: the delete goes through.
    await expect.poll(async () => (await admin("DELETE", `/threads/${first.thread_id}`, seeded.accountId)).status).toBe(204);
    await sleep(200);
    expect((await admin("GET", `/threads/${first.thread_id}`, seeded.accountId)).status).toBe(404);
    expect(await t.gateway.records.getThread(first.thread_id)).toBeNull();
    expect((await fetch(`${t.baseURL}/threads/${first.thread_id}`, { headers: { authorization: `Bearer ${seeded.key}` } })).status).toBe(404);
  });

  it("refuses to delete an agent while a request on one of its threads runs, revoking its keys at once, and deletes it all once the request is done", async () => {
    const seeded = await seedAgent(t.gateway);
    const first = await (await chat(seeded.key, { messages: [{ role: "user", content: "hi" }] })).json();
    const stream = await startStream(seeded.key, first.thread_id);

    const busy = await admin("DELETE", `/agents/${seeded.agent.id}`, seeded.accountId);
    expect(busy.status).toBe(409);
    expect(busy.json.error.code).toBe("thread_busy");
    expect(busy.json.error.message).toContain(first.thread_id);
    // No new request can start meanwhile; the agent and its threads are still there.
    expect((await chat(seeded.key, { messages: [{ role: "user", content: "again" }] })).status).toBe(401);
    expect((await admin("GET", `/agents/${seeded.agent.id}`, seeded.accountId)).status).toBe(200);
    await stream.finish();

    await expect.poll(async () => (await admin("DELETE", `/agents/${seeded.agent.id}`, seeded.accountId)).status).toBe(204);
    await sleep(200);
    expect((await admin("GET", `/agents/${seeded.agent.id}`, seeded.accountId)).status).toBe(404);
    expect((await admin("GET", `/threads/${first.thread_id}`, seeded.accountId)).status).toBe(404);
    expect(await t.gateway.records.getThread(first.thread_id)).toBeNull();
  });

  it("hides and sweeps a thread whose first request was still running when its agent was deleted", async () => {
    const seeded = await seedAgent(t.gateway);
    const stream = await startStream(seeded.key);
    // The new thread is not stored yet: nothing of the agent is busy, the delete goes through.
    expect((await admin("DELETE", `/agents/${seeded.agent.id}`, seeded.accountId)).status).toBe(204);
    await stream.finish();
    // The request's settle saves the thread after the agent was deleted...
    await expect.poll(() => t.gateway.records.getThread(stream.threadId)).not.toBeNull();
    // ...but it went with its agent: not readable, and deleted when met.
    const read = await admin("GET", `/threads/${stream.threadId}`, seeded.accountId);
    expect(read.status).toBe(404);
    expect(read.json.error.code).toBe("not_found");
    expect(await t.gateway.records.getThread(stream.threadId)).toBeNull();
    expect((await admin("DELETE", `/threads/${stream.threadId}`, seeded.accountId)).status).toBe(404);
  });

  it("deletes an idle thread and an idle agent at once, and frees the thread for nothing else", async () => {
    const seeded = await seedAgent(t.gateway);
    const first = await (await chat(seeded.key, { messages: [{ role: "user", content: "hi" }] })).json();
    expect((await admin("DELETE", `/threads/${first.thread_id}`, seeded.accountId)).status).toBe(204);
    // The lease the delete took is given back: a request naming the thread learns it is gone.
    const after = await chat(seeded.key, { messages: [{ role: "user", content: "hi" }], thread_id: first.thread_id });
    expect(after.status).toBe(404);
    expect((await after.json()).error.code).toBe("thread_not_found");
    const second = await (await chat(seeded.key, { messages: [{ role: "user", content: "hi" }] })).json();
    expect((await admin("DELETE", `/agents/${seeded.agent.id}`, seeded.accountId)).status).toBe(204);
    expect(await t.gateway.records.getThread(second.thread_id)).toBeNull();
  });
});

import { Redis } from "ioredis";
import { createStorage } from "unstorage";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { defineProvider } from "../../src/providers/_define";
import { echo } from "../../src/providers/echo";
import { createAPIError } from "../../src/errors";
import { createMemoryAtomics } from "../../src/stores/memory-atomics";
import { flakyStorage } from "../_flaky-storage";
import { seedAgent, startGateway, type TestGateway } from "../_setup";
import { snapshotStorage } from "../_storage";

const failing = defineProvider({
  id: "broken",
  models: { "broken/model": { inputPerMTok: 1, outputPerMTok: 1 } },
  chat() {
    throw createAPIError({ code: "upstream_error", message: "The broken provider failed." });
  },
});

describe("the thread step", () => {
  let t: TestGateway;
  let a: Awaited<ReturnType<typeof seedAgent>>;
  let b: Awaited<ReturnType<typeof seedAgent>>;

  beforeAll(async () => {
    t = await startGateway({ providers: [echo(), failing], threads: { maxMessages: 6 }, upstream: { retries: 0 } });
    a = await seedAgent(t.gateway, { agent: { name: "A" } });
    // Same account, another agent: threads still belong to one agent only.
    b = await seedAgent(t.gateway, { accountId: a.accountId, agent: { name: "B" }, creditMicros: 0 });
  });
  afterAll(() => t.close());

  const chat = (key: string, payload: object) =>
    fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: "echo/echo", ...payload }) });

  it("returns thread_id in the body and the x-thread-id header", async () => {
    const res = await chat(a.key, { messages: [{ role: "user", content: "hi" }] });
    const json = await res.json();
    expect(json.thread_id).toMatch(/^thread_[A-Za-z0-9]+$/);
    expect(res.headers.get("x-thread-id")).toBe(json.thread_id);
  });

  it("continues a thread named in the X-Thread-Id request header, the body's thread_id winning over it", async () => {
    const first = await (await chat(a.key, { messages: [{ role: "user", content: "one" }] })).json();
    const other = await (await chat(a.key, { messages: [{ role: "user", content: "other" }] })).json();
    const viaHeader = await fetch(`${t.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.key}`, "x-thread-id": first.thread_id },
      body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "two" }] }),
    });
    expect((await viaHeader.json()).thread_id).toBe(first.thread_id);
    const bothSent = await fetch(`${t.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.key}`, "x-thread-id": first.thread_id },
      body: JSON.stringify({ model: "echo/echo", thread_id: other.thread_id, messages: [{ role: "user", content: "three" }] }),
    });
    expect((await bothSent.json()).thread_id).toBe(other.thread_id);
    const thread = await t.gateway.admin.getThread(a.accountId, first.thread_id);
    expect(thread.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["one", "two"]);
  });

  it("hides another agent's thread exactly like a missing one, for chat and for reads", async () => {
    const own = await (await chat(a.key, { messages: [{ role: "user", content: "secret" }] })).json();
    // B's key has been used once already, so its last-used time (written at most once a minute) is not what changes.
    await fetch(`${t.baseURL}/models`, { headers: { authorization: `Bearer ${b.key}` } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = await snapshotStorage(t.gateway.records.storage);
    const foreign = await chat(b.key, { thread_id: own.thread_id, messages: [{ role: "user", content: "peek" }] });
    const missing = await chat(b.key, { thread_id: "thread_doesnotexist", messages: [{ role: "user", content: "peek" }] });
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    const [fj, mj] = [await foreign.json(), await missing.json()];
    expect(fj.error.code).toBe("thread_not_found");
    expect(fj.error.message.replace(own.thread_id, "X")).toBe(mj.error.message.replace("thread_doesnotexist", "X"));
    const read = await fetch(`${t.baseURL}/threads/${own.thread_id}`, { headers: { authorization: `Bearer ${b.key}` } });
    expect(read.status).toBe(404);
    expect((await read.json()).error.code).toBe("thread_not_found");
    expect(await snapshotStorage(t.gateway.records.storage)).toEqual(before);
  });

  it("keeps assistant tool_calls and tool results, so a client may send only the tool result", async () => {
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
    const first = await (await chat(a.key, { messages: [{ role: "user", content: "Paris" }], tools, tool_choice: "required" })).json();
    expect(first.choices[0].finish_reason).toBe("tool_calls");
    const call = first.choices[0].message.tool_calls[0];
    expect(call.function).toEqual({ name: "get_weather", arguments: JSON.stringify({ input: "Paris" }) });
    const second = await (await chat(a.key, { thread_id: first.thread_id, tools, messages: [{ role: "tool", tool_call_id: call.id, content: "sunny" }] })).json();
    expect(second.choices[0].finish_reason).toBe("stop");
    const thread = await (await fetch(`${t.baseURL}/threads/${first.thread_id}`, { headers: { authorization: `Bearer ${a.key}` } })).json();
    expect(thread.messages).toEqual([
      { role: "user", content: "Paris" },
      { role: "assistant", content: null, tool_calls: [call] },
      { role: "tool", tool_call_id: call.id, content: "sunny" },
      { role: "assistant", content: "Paris" },
    ]);
  });

  it("keeps at most maxMessages, dropping the oldest", async () => {
    let threadId: string | undefined;
    for (let i = 1; i <= 5; i++) {
      const json = await (await chat(a.key, { ...(threadId && { thread_id: threadId }), messages: [{ role: "user", content: `m${i}` }] })).json();
      threadId = json.thread_id;
    }
    const thread = await (await fetch(`${t.baseURL}/threads/${threadId}`, { headers: { authorization: `Bearer ${a.key}` } })).json();
    expect(thread.messages.map((m: { content: string }) => m.content)).toEqual(["m3", "m3", "m4", "m4", "m5", "m5"]);
  });

  it("writes no thread, no charge and no lease when the provider fails", async () => {
    const before = await snapshotStorage(t.gateway.records.storage);
    const balance = await t.gateway.admin.getBilling(a.accountId);
    const res = await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${a.key}` }, body: JSON.stringify({ model: "broken/model", messages: [{ role: "user", content: "x" }] }) });
    expect(res.status).toBe(502);
    expect(await snapshotStorage(t.gateway.records.storage)).toEqual(before);
    expect(await t.gateway.admin.getBilling(a.accountId)).toEqual(balance);
  });

  it("leaves an existing thread unchanged and free after a failed turn", async () => {
    const first = await (await chat(a.key, { messages: [{ role: "user", content: "keep me" }] })).json();
    const failed = await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${a.key}` }, body: JSON.stringify({ model: "broken/model", thread_id: first.thread_id, messages: [{ role: "user", content: "lost" }] }) });
    expect(failed.status).toBe(502);
    const next = await chat(a.key, { thread_id: first.thread_id, messages: [{ role: "user", content: "again" }] });
    expect(next.status).toBe(200);
    const thread = await (await fetch(`${t.baseURL}/threads/${first.thread_id}`, { headers: { authorization: `Bearer ${a.key}` } })).json();
    expect(thread.messages.map((m: { content: string }) => m.content)).toEqual(["keep me", "keep me", "again", "again"]);
  });

  it("keeps x-thread-id on an error about an existing thread, but names no thread a failed first request never created", async () => {
    const first = await (await chat(a.key, { messages: [{ role: "user", content: "exists" }] })).json();
    const failedTurn = await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${a.key}` }, body: JSON.stringify({ model: "broken/model", thread_id: first.thread_id, messages: [{ role: "user", content: "x" }] }) });
    expect(failedTurn.status).toBe(502);
    expect(failedTurn.headers.get("x-thread-id")).toBe(first.thread_id);
    const failedFirst = await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${a.key}` }, body: JSON.stringify({ model: "broken/model", messages: [{ role: "user", content: "x" }] }) });
    expect(failedFirst.status).toBe(502);
    expect(failedFirst.headers.get("x-thread-id")).toBeNull();
  });

  it("treats a thread past its time to live as gone", async () => {
    const short = await startGateway({ threads: { ttlSeconds: 1 } });
    try {
      const s = await seedAgent(short.gateway);
      const post = (payload: object) => fetch(`${short.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${s.key}` }, body: JSON.stringify({ model: "echo/echo", ...payload }) });
      const first = await (await post({ messages: [{ role: "user", content: "x" }] })).json();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await post({ thread_id: first.thread_id, messages: [{ role: "user", content: "y" }] })).status).toBe(404);
    } finally {
      await short.close();
    }
  });

  it("never loses a message when many requests race on one thread", async () => {
    const first = await (await chat(a.key, { messages: [{ role: "user", content: "base" }] })).json();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(a.key, { thread_id: first.thread_id, messages: [{ role: "user", content: `r${i}` }] })));
    const ok = results.filter((r) => r.status === 200).length;
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const thread = await (await fetch(`${t.baseURL}/threads/${first.thread_id}`, { headers: { authorization: `Bearer ${a.key}` } })).json();
    // maxMessages is 6 here, so check the count of turns through the last reply instead.
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(thread.messages.length).toBe(Math.min(6, 2 + ok * 2));
  });
});

describe("the lease of a new thread", () => {
  // The in-process driver, its lease calls counted (the driver itself answers them).
  const countedAtomics = () => {
    const atomics = createMemoryAtomics();
    const taken: string[] = [];
    return { taken, atomics: { ...atomics, acquireLease: (name: string, token: string, ttlMs: number) => (taken.push(name), atomics.acquireLease(name, token, ttlMs)) } };
  };
  const post = (t: TestGateway, key: string, payload: object) =>
    fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: "echo/echo", ...payload }) });

  it("is not taken for an answer in one piece, whose thread no request can name before it is saved; a stream's is, and a follow-up during it gets 409", async () => {
    const { atomics, taken } = countedAtomics();
    const t = await startGateway({ providers: [echo({ delayMs: 40 })], atomics });
    try {
      const s = await seedAgent(t.gateway);
      const first = await post(t, s.key, { messages: [{ role: "user", content: "one piece" }] });
      expect(first.status).toBe(200);
      const threadId = (await first.json()).thread_id;
      expect(taken).toEqual([]);
      // Its follow-up is leased as every turn on a thread that exists.
      expect((await post(t, s.key, { thread_id: threadId, messages: [{ role: "user", content: "next" }] })).status).toBe(200);
      expect(taken).toEqual([`${s.agent.id}:${threadId}`]);

      const stream = await post(t, s.key, { stream: true, messages: [{ role: "user", content: "a b c d e f g h" }] });
      const streamed = stream.headers.get("x-thread-id")!;
      expect(taken).toContain(`${s.agent.id}:${streamed}`);
      const reader = stream.body!.getReader();
      await reader.read(); // the first frame is out: the client knows the thread now
      const busy = await post(t, s.key, { thread_id: streamed, messages: [{ role: "user", content: "too early" }] });
      expect(busy.status).toBe(409);
      expect((await busy.json()).error.code).toBe("thread_busy");
      while (!(await reader.read()).done);
      expect((await post(t, s.key, { thread_id: streamed, messages: [{ role: "user", content: "now" }] })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it("is taken when a new thread's save fails, so a follow-up waits (409) until the turn is saved, never finds no thread", async () => {
    const { atomics, taken } = countedAtomics();
    const flaky = flakyStorage();
    const t = await startGateway({ storage: flaky.storage, atomics, logger: { warn() {}, error() {} } });
    try {
      const s = await seedAgent(t.gateway);
      flaky.fail(true);
      const first = await post(t, s.key, { messages: [{ role: "user", content: "saved later" }] });
      expect(first.status).toBe(200);
      const threadId = (await first.json()).thread_id;
      expect(taken).toEqual([`${s.agent.id}:${threadId}`]);
      const early = await post(t, s.key, { thread_id: threadId, messages: [{ role: "user", content: "too early" }] });
      expect(early.status).toBe(409);
      flaky.fail(false);
      await expect.poll(async () => (await post(t, s.key, { thread_id: threadId, messages: [{ role: "user", content: "later" }] })).status).toBe(200);
      const thread = await (await fetch(`${t.baseURL}/threads/${threadId}`, { headers: { authorization: `Bearer ${s.key}` } })).json();
      expect(thread.messages.map((m: { content: string }) => m.content)).toEqual(["saved later", "saved later", "later", "later"]);
    } finally {
      await t.close();
    }
  });

  it("keeps the lease while a turn waits to be saved, past holdTtlMs, so the next turn waits (409) and follows it", async () => {
    const flaky = flakyStorage();
    const t = await startGateway({ storage: flaky.storage, holdTtlMs: 2000, logger: { warn() {}, error() {} } });
    try {
      const s = await seedAgent(t.gateway);
      const threadId = (await (await post(t, s.key, { messages: [{ role: "user", content: "one" }] })).json()).thread_id;
      flaky.fail(true);
      expect((await post(t, s.key, { thread_id: threadId, messages: [{ role: "user", content: "two" }] })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect((await post(t, s.key, { thread_id: threadId, messages: [{ role: "user", content: "too early" }] })).status).toBe(409);
      flaky.fail(false);
      await expect.poll(async () => (await post(t, s.key, { thread_id: threadId, messages: [{ role: "user", content: "three" }] })).status).toBe(200);
      const thread = await (await fetch(`${t.baseURL}/threads/${threadId}`, { headers: { authorization: `Bearer ${s.key}` } })).json();
      expect(thread.messages.map((m: { content: string }) => m.content)).toEqual(["one", "one", "two", "two", "three", "three"]);
    } finally {
      await t.close();
    }
  });
});

describe("the thread step when Redis refuses to give a lease back", () => {
  const redis = new Redis(inject("redisUrl"));
  // A Redis user of its own, whose rights the test takes away and gives back: a real refusal.
  const user = `thread-release-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const prefix = `${user}:`;
  const logged: string[] = [];
  let t: TestGateway;
  let a: Awaited<ReturnType<typeof seedAgent>>;

  beforeAll(async () => {
    await redis.acl("SETUSER", user, "on", ">test-password", "~*", "&*", "+@all");
    const url = inject("redisUrl").replace("redis://", `redis://${user}:test-password@`);
    t = await startGateway({ redis: url, redisPrefix: prefix, storage: createStorage(), logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) } });
    a = await seedAgent(t.gateway);
  });
  afterAll(async () => {
    await t.close();
    await redis.acl("DELUSER", user);
    await redis.quit();
  });

  it("still answers 404 for a thread_id that names no thread, and gives the lease back once Redis takes it", async () => {
    const lease = `${prefix}{${a.agent.id}:thread_missing}:lease`;
    // Taking a lease is a SET, giving it back a script: refuse scripts only.
    await redis.acl("SETUSER", user, "-evalsha", "-eval");
    try {
      const res = await fetch(`${t.baseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${a.key}` },
        body: JSON.stringify({ model: "echo/echo", thread_id: "thread_missing", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("thread_not_found");
      expect(await redis.exists(lease)).toBe(1);
    } finally {
      await redis.acl("SETUSER", user, "+evalsha", "+eval");
    }
    await expect.poll(() => redis.exists(lease)).toBe(0);
    expect(logged.some((line) => line.includes("release a thread lease"))).toBe(true);
  });
});

describe("the thread step when a turn's save outlives its lease (an outage longer than holdTtlMs)", () => {
  const redis = new Redis(inject("redisUrl"));
  const prefix = `late-save-${process.pid}-${Math.random().toString(36).slice(2, 8)}:`;
  afterAll(() => redis.quit());

  it("appends the late turn to the thread as it is now, never writing over a turn saved meanwhile", async () => {
    const flaky = flakyStorage();
    const t = await startGateway({ redis: inject("redisUrl"), redisPrefix: prefix, storage: flaky.storage, holdTtlMs: 1000, logger: { warn() {}, error() {} } });
    const post = (key: string, payload: object) => fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: "echo/echo", ...payload }) });
    try {
      const s = await seedAgent(t.gateway);
      const threadId = (await (await post(s.key, { messages: [{ role: "user", content: "one" }] })).json()).thread_id;
      const lease = `${prefix}{${s.agent.id}:${threadId}}:lease`;
      flaky.fail(true);
      expect((await post(s.key, { thread_id: threadId, messages: [{ role: "user", content: "two" }] })).status).toBe(200);
      // The lease lapses, as after a Redis outage longer than holdTtlMs: the next turn gets in,
      // reads the thread without "two", and its own save waits too.
      expect(await redis.del(lease)).toBe(1);
      expect((await post(s.key, { thread_id: threadId, messages: [{ role: "user", content: "three" }] })).status).toBe(200);
      flaky.fail(false);
      const contents = async () => {
        const thread = await (await fetch(`${t.baseURL}/threads/${threadId}`, { headers: { authorization: `Bearer ${s.key}` } })).json();
        return (thread.messages as Array<{ content: string }>).map((m) => m.content);
      };
      // Both late turns land, whichever first: nothing is written over.
      await expect.poll(async () => (await contents()).length, { timeout: 10_000 }).toBe(6);
      const saved = await contents();
      expect(saved.slice(0, 2)).toEqual(["one", "one"]);
      expect([saved.slice(2, 4), saved.slice(4, 6)]).toEqual(expect.arrayContaining([["two", "two"], ["three", "three"]]));
      await expect.poll(() => redis.exists(lease)).toBe(0);
    } finally {
      await t.close();
    }
  });
});

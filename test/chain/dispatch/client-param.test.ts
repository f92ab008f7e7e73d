import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echo, gemini } from "../../../src/index";
import { seedAgent, startGateway, type TestGateway } from "../../_setup";

// Gemini refuses an ftp: image while it maps the prompt, before any call: no upstream needed.
const BAD_IMAGE = { type: "image_url", image_url: { url: "ftp://example.com/a.png" } };

describe("a field the provider refuses, named as the client sent it", () => {
  let t: TestGateway;
  let key: string;

  beforeAll(async () => {
    t = await startGateway({ providers: [echo(), gemini({ apiKey: "unused", baseURL: "http://127.0.0.1:9" })], logger: { warn() {}, error() {} } });
    // Instructions come first in every prompt, the thread's history next: neither is the client's.
    ({ key } = await seedAgent(t.gateway, { agent: { name: "Instructed", instructions: "Be brief." } }));
  });
  afterAll(() => t.close());

  const post = (path: string, body: object) => fetch(`${t.baseURL}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify(body) });

  it("on chat completions, by the client's own message index, in a thread with history too", async () => {
    const first = await post("/chat/completions", { model: "echo/echo", messages: [{ role: "user", content: "hello" }] });
    const threadId = (await first.json()).thread_id;
    const refused = await post("/chat/completions", { model: "gemini/gemini-2.5-flash", thread_id: threadId, messages: [{ role: "user", content: "and" }, { role: "user", content: [{ type: "text", text: "this" }, BAD_IMAGE] }] });
    expect(refused.status).toBe(400);
    const { error } = await refused.json();
    expect(error.param).toBe("messages[1].content[1]");
    expect(error.message).toContain("`messages[1].content[1]`");
  });

  it("on the Responses API, by its input field (its items are not one message each)", async () => {
    const refused = await post("/responses", { model: "gemini/gemini-2.5-flash", instructions: "Short.", input: [{ role: "user", content: [{ type: "input_image", image_url: "ftp://example.com/a.png" }] }] });
    expect(refused.status).toBe(400);
    const { error } = await refused.json();
    expect(error.param).toBe("input");
    expect(error.message).not.toContain("messages[");
  });

  it("names no field for a message of the thread's history", async () => {
    // echo takes the image; the thread keeps it; gemini cannot read it on the next turn.
    const first = await post("/chat/completions", { model: "echo/echo", messages: [{ role: "user", content: [{ type: "text", text: "look" }, BAD_IMAGE] }] });
    expect(first.status).toBe(200);
    const refused = await post("/chat/completions", { model: "gemini/gemini-2.5-flash", thread_id: (await first.json()).thread_id, messages: [{ role: "user", content: "and now?" }] });
    expect(refused.status).toBe(400);
    const { error } = await refused.json();
    expect(error.param).toBeNull();
    expect(error.message).toContain("a message of the thread's history");
  });
});

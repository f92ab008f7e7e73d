import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumerApp, ensureBuilt } from "./_consumer";

const APP = fileURLToPath(new URL("../fixtures/consumers/express4-app.cjs", import.meta.url));

describe("a CommonJS Express 4 app that requires agentgate", () => {
  let child: ChildProcess;
  let origin: string;
  let key: string;
  beforeAll(async () => {
    ensureBuilt();
    const dir = consumerApp({ "package.json": JSON.stringify({ name: "cjs-app", private: true }) }, { express: "express4" });
    copyFileSync(APP, join(dir, "server.cjs"));
    child = spawn(process.execPath, ["server.cjs"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (data: Buffer) => (stderr += data.toString()));
    const started = await new Promise<{ port: number; key: string }>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`the app exited with ${code}: ${stderr}`)));
      createInterface({ input: child.stdout! }).once("line", (line) => resolve(JSON.parse(line)));
    });
    origin = `http://127.0.0.1:${started.port}`;
    key = started.key;
  }, 120_000);
  afterAll(() => void child?.kill());

  it("serves a completion through require('agentgate/express') and keeps its own routes", async () => {
    const response = await fetch(`${origin}/api/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "from CommonJS" }] }),
    });
    expect(response.status).toBe(200);
    expect((await response.json()).choices[0].message.content).toBe("from CommonJS");
    expect(await (await fetch(`${origin}/hello`)).json()).toEqual({ host: "express 4" });
  });
});

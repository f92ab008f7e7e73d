import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./_net";
import { requireProgram } from "./_system";

/** A real `redis-server` on a free loopback port, in its own temp folder. */
export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop`), for outage tests. */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /** Keep data across `stop`/`restart` (an fsync'ed append-only file), as a production Redis would. */
  persistent?: boolean;
}

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const redisServer = requireProgram("redis-server");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "agentgate-redis-"));
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(redisServer, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", options.persistent ? "yes" : "no", "--appendfsync", "always", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("redis-server did not start in 10s")), 10_000);
      child!.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`redis-server could not start (is it installed? apt-get install -y redis-server): ${error.message}`));
      });
      child!.stdout!.on("data", (data: Buffer) => {
        if (data.toString().includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    restart: launch,
  };
}

export async function stopRedisAndClean(server: RedisServer, dir?: string): Promise<void> {
  await server.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}



import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./_net";
import { requireProgram } from "./_system";

/** A real three-master Redis Cluster (no replicas) on loopback ports, in a temp folder. */
export interface RedisCluster {
  /** The nodes' URLs, as `createGateway({ redis })` takes them. */
  urls: string[];
  ports: number[];
  /** Kills one master (SIGKILL), for outage tests. */
  stopNode(index: number): Promise<void>;
  /** Starts it again on its port, with its cluster config (it rejoins, slots and all). */
  startNode(index: number): Promise<void>;
  /** Waits until the cluster says `cluster_state:ok`. */
  healthy(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisCluster(): Promise<RedisCluster> {
  const redisServer = requireProgram("redis-server");
  const redisCli = requireProgram("redis-cli", "redis-tools");
  const dir = mkdtempSync(join(tmpdir(), "agentgate-redis-cluster-"));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children: Array<ChildProcess | undefined> = [];
  const startNode = async (index: number) => {
    const port = ports[index];
    const child = spawn(redisServer, ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "2000", "--save", "", "--appendonly", "yes", "--appendfilename", `appendonly-${port}.aof`, "--appenddirname", `aof-${port}`, "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
    children[index] = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("redis-server (cluster node) did not start in 10s")), 10_000);
      child.once("error", reject);
      child.stdout!.on("data", (data: Buffer) => {
        if (data.toString().includes("Ready to accept connections")) (clearTimeout(timer), resolve());
      });
    });
  };
  const stopNode = async (index: number) => {
    const child = children[index];
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  };
  const cli = (...args: string[]) => promisify(execFile)(redisCli, args, { timeout: 30_000 });
  const healthy = async () => {
    for (const started = Date.now(); Date.now() - started < 30_000; await new Promise((resolve) => setTimeout(resolve, 200))) {
      const states = await Promise.all(ports.map((port) => cli("-p", String(port), "cluster", "info").then(({ stdout }) => stdout, () => "")));
      if (states.every((info) => info.includes("cluster_state:ok"))) return;
    }
    throw new Error("the Redis Cluster did not reach cluster_state:ok in 30s");
  };
  for (const index of ports.keys()) await startNode(index);
  await cli("--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes");
  await healthy();
  return {
    urls: ports.map((port) => `redis://127.0.0.1:${port}`),
    ports,
    stopNode,
    startNode,
    healthy,
    async stop() {
      for (const index of ports.keys()) await stopNode(index);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A server under test, in its own process, with its CPU time and memory readable from /proc. */
export interface BenchProcess {
  name: string;
  pid: number;
  port: number;
  url: string;
  info: Record<string, unknown>;
  /** User + system CPU time the process has used so far, in microseconds. */
  cpuMicros(): number;
  rssBytes(): number;
  stop(): Promise<void>;
}

const TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim()) || 100;
const hasTaskset = spawnSync("taskset", ["--version"]).status === 0;

/** Starts `node --import tsx <script>` (one process, so /proc figures are the server's own), pinned to `cpu`. */
export async function startServer(name: string, script: string, env: Record<string, string> = {}, cpu?: number): Promise<BenchProcess> {
  const path = fileURLToPath(new URL(`../servers/${script}`, import.meta.url));
  const args = ["--import", "tsx", path];
  const [command, argv] = hasTaskset && cpu !== undefined ? ["taskset", ["-c", String(cpu), process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(command, argv, { env: { ...process.env, ...env, NODE_ENV: "production" }, stdio: ["ignore", "pipe", "inherit"] });
  const info = await readyLine(child, name);
  const port = Number(info.port);
  return {
    name,
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    info,
    cpuMicros: () => cpuMicrosOf(child.pid!),
    rssBytes: () => rssOf(child.pid!),
    stop: () => stopChild(child),
  };
}

/** Starts any command pinned to `cpu` and waits until `ready` appears on its stdout. */
export async function startCommand(command: string, args: string[], ready: string, cpu?: number): Promise<{ pid: number; cpuMicros(): number; stop(): Promise<void> }> {
  const [cmd, argv] = hasTaskset && cpu !== undefined ? ["taskset", ["-c", String(cpu), command, ...args]] : [command, args];
  const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start`)), 15_000);
    child.once("exit", (code) => reject(new Error(`${command} exited with ${code}`)));
    child.stdout!.on("data", (data: Buffer) => {
      if (data.toString().includes(ready)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { pid: child.pid!, cpuMicros: () => cpuMicrosOf(child.pid!), stop: () => stopChild(child) };
}

/** Pins this process (the load generator) to one core, away from the servers. */
export function pinSelf(cpu: number): boolean {
  return hasTaskset && spawnSync("taskset", ["-cp", String(cpu), String(process.pid)]).status === 0;
}

// --- internal ---

function readyLine(child: ChildProcess, name: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`${name} did not print READY within 30 s`)), 30_000);
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code} before READY`)));
    child.stdout!.on("data", (data: Buffer) => {
      buffer += data.toString();
      const match = /READY (\{.*\})/.exec(buffer);
      if (match) {
        clearTimeout(timer);
        resolve(JSON.parse(match[1]));
      }
    });
  });
}

function cpuMicrosOf(pid: number): number {
  // /proc/<pid>/stat: fields 14 and 15 are utime and stime in clock ticks (after the "(comm)" field).
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
}

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

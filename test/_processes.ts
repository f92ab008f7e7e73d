import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** A gateway in its own Node process (tsx), serving on an ephemeral port. */
export interface GatewayProcess {
  origin: string;
  baseURL: string;
  child: ChildProcess;
  /** What it wrote to stderr (crashes, logged errors). */
  stderr(): string;
  stop(): Promise<void>;
}

const SERVER = fileURLToPath(new URL("./fixtures/redis-gateway-server.ts", import.meta.url));

/** Spawns `test/fixtures/redis-gateway-server.ts` and waits for the port it prints. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", SERVER], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (data: Buffer) => (stderr += data.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway process did not start in 20s: ${stderr}`)), 20_000);
    child.once("exit", (code) => reject(new Error(`gateway process exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const { port } = JSON.parse(line) as { port: number };
        clearTimeout(timer);
        resolve(port);
      } catch {
        // not the port line
      }
    });
  });
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    baseURL: `${origin}/api/v1`,
    child,
    stderr: () => stderr,
    async stop() {
      // Killed by a signal (a test's SIGKILL), a process has a signalCode and no exitCode.
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./_net";

/** A real `postgres` server on a free loopback port, its cluster in a temp folder. */
export interface PostgresServer {
  /** A database created for the caller, e.g. `postgresql://postgres@127.0.0.1:54321/agentgate`. */
  url: string;
  port: number;
  /** The cluster's folder (data in `data/`), for measuring its size. */
  dir: string;
  /** Stops it at once (an immediate shutdown, then SIGKILL) and removes its folder. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** The database to create. @default "agentgate" */
  database?: string;
  /** Keep fsync and synchronous commit on, as a production server has them (tests turn them off for speed). */
  durable?: boolean;
}

const INSTALL = "postgres is not installed: run `apt-get install -y postgresql` (npm run test:all installs it).";

/**
 * Starts Debian's `postgres` (the newest version under /usr/lib/postgresql) as the `postgres`
 * system user when we are root (postgres refuses to run as root), waits until it takes
 * connections (30 s at most, never hangs) and creates a database.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBin();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), "agentgate-pg-"));
  if (user) chownSync(dir, user.uid, user.gid);
  const spawnOptions: SpawnOptions = { cwd: dir, env: { ...process.env, LC_ALL: "C", PGTZ: "UTC" }, ...user };
  const data = join(dir, "data");
  const init = spawnSync(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"], { ...spawnOptions, encoding: "utf8", timeout: 60_000 });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.error?.message}): ${init.stderr}`);
  }
  const port = await freePort();
  const settings = ["listen_addresses=127.0.0.1", `port=${port}`, `unix_socket_directories=${dir}`, ...(options.durable ? [] : ["fsync=off", "synchronous_commit=off", "full_page_writes=off"])];
  const child = spawn(join(bin, "postgres"), ["-D", data, ...settings.flatMap((setting) => ["-c", setting])], { ...spawnOptions, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  // A test run that dies without its teardown must not leave a server behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const database = options.database ?? "agentgate";
    await untilAccepting(child, port, () => log);
    await withClient(`postgresql://postgres@127.0.0.1:${port}/postgres`, (client) => client.query(`CREATE DATABASE "${database}"`));
    return { url: `postgresql://postgres@127.0.0.1:${port}/${database}`, port, dir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// --- internal ---

/** The bin folder of the newest installed PostgreSQL, or the one-line install hint. */
function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((name) => /^\d+$/.test(name));
  } catch {
    // not installed
  }
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    const bin = join(root, version, "bin");
    try {
      accessSync(join(bin, "initdb"), constants.X_OK);
      accessSync(join(bin, "postgres"), constants.X_OK);
      return bin;
    } catch {
      // a version without the server
    }
  }
  throw new Error(INSTALL);
}

/** The `postgres` user's ids when we are root; undefined when we may run it ourselves. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const entry = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((row) => row.split(":"))
    .find((fields) => fields[0] === "postgres");
  if (!entry) throw new Error(INSTALL);
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

/** Polls until a connection succeeds; fails on the server's exit or after 30 s. */
async function untilAccepting(child: ChildProcess, port: number, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited (${child.exitCode ?? child.signalCode}): ${log()}`);
    try {
      await withClient(`postgresql://postgres@127.0.0.1:${port}/postgres`, (client) => client.query("SELECT 1"));
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections in 30s (${(error as Error).message}): ${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** SIGQUIT is postgres's immediate shutdown (it takes its backends with it); SIGKILL if that stalls. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGQUIT");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

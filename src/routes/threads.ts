import { getRouterParam, type H3 } from "h3";
import { threadView } from "../admin/views";
import { apiKeyAuth } from "../chain/auth";
import { ownLiveThread } from "../chain/thread";
import { useGatewayContext } from "../context";
import { clip, createAPIError } from "../errors";
import type { GatewayRuntime } from "../runtime";

/** `GET {base}/v1/threads/{id}`: a thread of the key's own agent; any other is 404. */
export function registerThreads(app: H3, base: string, runtime: GatewayRuntime): void {
  app.get(
    `${base}/v1/threads/:thread`,
    async (event) => {
      const { agent } = useGatewayContext(event).auth!;
      const id = decodeURIComponent(getRouterParam(event, "thread") ?? "");
      const thread = ownLiveThread(await runtime.records.getThread(id), agent.id, runtime.threads.ttlSeconds);
      if (!thread) {
        throw createAPIError({ code: "thread_not_found", param: "thread_id", message: `No thread found with id '${clip(id)}'.` });
      }
      event.res.headers.set("x-thread-id", thread.id);
      return threadView(thread);
    },
    { middleware: [apiKeyAuth(runtime)] },
  );
}

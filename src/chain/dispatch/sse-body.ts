/** One batch of SSE frames (text, or a vendor's bytes passed on), and whether the stream ends with it. */
export interface SSEBatch {
  data: string | Uint8Array;
  done: boolean;
}

/** Where a stream's frames come from: a batch per `pull`; `cancel` when the client left first. */
export interface SSEPump {
  pull(): Promise<SSEBatch>;
  cancel(): Promise<void>;
}

/** What srvx hands a body that is neither a web stream nor a Node stream: the response to write to. */
interface NodeResponseLike {
  write(chunk: string | Uint8Array): boolean;
  end(): void;
  destroy(error?: Error): void;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  once(event: "close" | "drain", listener: () => void): unknown;
  off(event: "close" | "drain", listener: () => void): unknown;
}

/**
 * A body srvx pipes into Node's response itself: `pipe(res)` (it has no `on`, so srvx adds
 * no stream machinery of its own), or `destroy()` when the response was already gone.
 */
export interface NodePipeBody {
  pipe(res: NodeResponseLike): NodeResponseLike;
  destroy(): void;
}

export type SSEBody = ReadableStream<Uint8Array> | NodePipeBody;

const utf8 = new TextEncoder();

/**
 * The stream's body for the answer. `direct` (see `writesDirectly`): frames written
 * straight to srvx's Node response (no web `ReadableStream`, whose creation alone costs
 * Node 20 a transferable wrapper, no reader promises, no bytes encoded ahead of the
 * socket's own write), with backpressure by `drain`. Otherwise a web `ReadableStream`:
 * whoever reads the body as a web stream must get one, since srvx would bridge a pipe
 * through a PassThrough into undici's `Response`, which throws an uncaught "already closed"
 * when its reader cancels (a client that leaves).
 */
export function sseBody(pump: SSEPump, direct: boolean): SSEBody {
  return direct ? nodeSSEBody(pump) : webSSEBody(pump);
}

/** The frames as a web `ReadableStream` (cancelled: the client left). */
export function webSSEBody(pump: SSEPump): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // A pull that enqueues nothing is not called again: keep going until there is something.
      for (;;) {
        const { data, done } = await pump.pull();
        try {
          if (data.length) controller.enqueue(typeof data === "string" ? utf8.encode(data) : data);
          if (done) controller.close();
        } catch {
          // The host cancelled the stream meanwhile: nobody is reading.
        }
        if (data.length || done) return;
      }
    },
    cancel: () => pump.cancel(),
  });
}

function nodeSSEBody(pump: SSEPump): NodePipeBody {
  return {
    // The client left before the answer began: settle as a leave, as a cancelled web stream does.
    destroy: () => void pump.cancel(),
    pipe(res) {
      let ended = false;
      // The response closed before the last frame: the client left.
      const onClose = () => {
        if (!ended) void pump.cancel();
      };
      res.once("close", onClose);
      const writable = () => !res.destroyed && !res.writableEnded;
      const drained = () =>
        new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.once("drain", done);
          res.once("close", done);
        });
      void (async () => {
        try {
          while (writable()) {
            const { data, done } = await pump.pull();
            if (!writable()) return; // closed meanwhile: `onClose` has told the pump
            if (done) ended = true;
            if (data.length && !res.write(data) && !done) await drained();
            if (done) {
              res.off("close", onClose);
              res.end();
              return;
            }
          }
        } catch (error) {
          // The pump ends every failure with the dialect's error frame; anything else is a bug: cut the stream.
          res.destroy(error instanceof Error ? error : new Error(String(error)));
        }
      })();
      return res;
    },
  };
}

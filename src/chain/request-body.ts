import { createAPIError } from "../errors";

/** What srvx's Node request carries besides the web Request: the Node message it wraps. */
interface NodeBackedRequest extends Request {
  runtime?: { node?: { req?: unknown } };
}

/**
 * The request body as text, never holding more than `maxBytes` of it (413 beyond), 400
 * `incomplete_body` when the client closed the connection mid-upload.
 *
 * On Node (srvx), a body with a declared length is read straight from the Node message,
 * buffered: Node's parser never delivers more than the declared length, and no web
 * ReadableStream is made for it (each costs about 1 % of a request's CPU on Node 20).
 * Chunked uploads, and every other runtime, go through the web stream, counted as it comes.
 */
export async function readLimitedText(req: Request, maxBytes: number): Promise<string> {
  const declared = Number(req.headers.get("content-length"));
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if ((req as NodeBackedRequest).runtime?.node?.req && declared > 0 && !req.bodyUsed) {
    try {
      return await req.text();
    } catch (error) {
      throw incompleteBody(error);
    }
  }
  return readStreamed(req, maxBytes);
}

// --- internal ---

async function readStreamed(req: Request, maxBytes: number): Promise<string> {
  if (!req.body) return "";
  const reader = req.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw incompleteBody(error);
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

function tooLarge(maxBytes: number) {
  return createAPIError({ code: "request_too_large", message: `The request body is larger than the limit of ${maxBytes} bytes.` });
}

/** The client closed the connection mid-upload: its doing, not a server error (no 500, no stack trace); the gateway's onError logs one line. */
function incompleteBody(cause: unknown) {
  return createAPIError({ code: "incomplete_body", message: "The request body ended before the length it announced: the connection closed mid-upload.", cause });
}

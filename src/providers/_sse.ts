/** One server-sent event: its `event:` name ("message" when none) and its joined `data:` lines. */
export interface SSEEvent {
  event: string;
  data: string;
}

/** Turns bytes, as they arrive, into whole events; a line or a character split across reads waits for the rest. */
export interface SSEDecoder {
  push(bytes: Uint8Array): SSEEvent[];
}

/**
 * An incremental decoder of `text/event-stream` (the WHATWG rules that matter to API
 * streams): LF, CRLF or CR line ends, `:` comments, one optional space after the colon,
 * several `data:` lines joined by "\n", an event dispatched on a blank line.
 */
export function createSSEDecoder(): SSEDecoder {
  const utf8 = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string | undefined;
  // The last read ended in a CR: an LF that starts the next one belongs to it (a CRLF split in two).
  let afterCR = false;

  const takeLine = (line: string, out: SSEEvent[]) => {
    if (line === "") {
      if (data !== undefined) out.push({ event: event || "message", data });
      event = "";
      data = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") data = data === undefined ? value : `${data}\n${value}`;
    else if (field === "event") event = value;
  };

  return {
    push(bytes) {
      buffer += utf8.decode(bytes, { stream: true });
      const out: SSEEvent[] = [];
      const hasCR = buffer.includes("\r");
      let start = afterCR && buffer.charCodeAt(0) === 10 ? 1 : 0;
      afterCR = false;
      for (;;) {
        let end = buffer.indexOf("\n", start);
        let next = end + 1;
        if (hasCR) {
          const cr = buffer.indexOf("\r", start);
          if (cr >= 0 && (end < 0 || cr < end)) {
            end = cr;
            next = buffer.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
            if (cr === buffer.length - 1) afterCR = true;
          }
        }
        if (end < 0) break;
        takeLine(buffer.slice(start, end), out);
        start = next;
      }
      buffer = start === 0 ? buffer : start >= buffer.length ? "" : buffer.slice(start);
      return out;
    },
  };
}

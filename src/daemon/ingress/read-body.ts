/** A request body read whole, or why it was not. */
export type BodyRead =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly problem: 'too_large'; readonly limitBytes: number }
  | { readonly ok: false; readonly problem: 'unreadable'; readonly detail: string };

/**
 * Reads a request's body into one Buffer, refusing it once it passes `limitBytes`: at once when
 * `Content-Length` already says so, otherwise while streaming, so a body that lies about (or omits)
 * its length is cut off at the limit and never held in memory whole. A body whose stream fails
 * (the client went away) is `unreadable`. Never throws.
 */
export async function readBodyWithLimit(request: Request, limitBytes: number): Promise<BodyRead> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\s*\d+\s*$/.test(declared) && Number(declared) > limitBytes) {
    await discard(request);
    return { ok: false, problem: 'too_large', limitBytes };
  }
  if (request.body === null) return { ok: true, body: Buffer.alloc(0) };
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = request.body.getReader();
  } catch (error) {
    return { ok: false, problem: 'unreadable', detail: describe(error) };
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!(value instanceof Uint8Array)) {
        await stop(reader);
        return { ok: false, problem: 'unreadable', detail: 'the body stream yielded something other than bytes' };
      }
      size += value.byteLength;
      if (size > limitBytes) {
        await stop(reader);
        return { ok: false, problem: 'too_large', limitBytes };
      }
      chunks.push(value);
    }
  } catch (error) {
    await stop(reader);
    return { ok: false, problem: 'unreadable', detail: describe(error) };
  }
  return { ok: true, body: Buffer.concat(chunks, size) };
}

/** Stops reading: the rest of the body is dropped unread. */
async function stop(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    await reader.cancel();
  } catch {
    // a stream that already failed has nothing left to cancel
  }
}

/** Lets go of a body that will not be read, so its stream is not left open. */
async function discard(request: Request): Promise<void> {
  try {
    await request.body?.cancel();
  } catch {
    // a locked or already failed stream has nothing left to release
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

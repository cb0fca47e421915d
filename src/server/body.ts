/**
 * Reads a JSON request body with a byte limit enforced while it streams in (a 413 is answered as soon as
 * the limit is passed, without buffering the rest), checks that the bytes are valid UTF-8, and parses it.
 * Every failure is a SidecarError naming what was wrong. The content type is not checked: the body is
 * JSON or it is a 400, whatever the header says (`curl -d` sends form-urlencoded, and gateways that
 * refuse it with a 415 only confuse people; the error table of docs/contract.md#streaming-and-errors has no 415
 * either).
 */
import type { IncomingMessage } from 'node:http';
import { SidecarError, excerpt } from '../errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw tooLarge(maxBytes);
  }
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      parts.push(buf);
    }
  } catch (error) {
    if (error instanceof SidecarError) throw error;
    // The socket went before the body was whole: the client left, or Node's server.request_timeout_ms
    // answered 408 and closed it. Nobody is left to answer; this is the client's doing, not ours.
    throw new SidecarError('client_timeout', `the request body did not arrive in full (${(error as Error).message})`);
  }
  if (size === 0) throw new SidecarError('invalid_request_error', 'the request body is empty: expected a JSON object');
  let text: string;
  try {
    text = utf8.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts, size));
  } catch {
    throw new SidecarError('invalid_request_error', 'the request body is not valid UTF-8');
  }
  checkDepth(text);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SidecarError('invalid_request_error', `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Deeper than any real request (a tool's JSON schema nests a few dozen levels at most). */
export const MAX_JSON_DEPTH = 512;

/**
 * Refuses a body nested deeper than MAX_JSON_DEPTH before it is parsed, naming the top-level key it is
 * under. Parsing 20 MB of nested brackets holds the event loop (every stream) for seconds, and everything
 * after the parse recurses: a tool schema 5,000 levels deep (40 KB) ended in a stack overflow, a 500 that
 * said nothing. One pass over the text, brackets counted outside strings; malformed JSON is left to the
 * parser to name. Linear in the body whatever it holds: the key is only located (two indices) as the scan
 * goes and cut out once, for the message (a 2 MB key followed by two million colons used to be sliced
 * again at every colon: minutes of a frozen event loop).
 */
function checkDepth(text: string): void {
  let depth = 0;
  let keyFrom = -1; // the top-level key in force: [keyFrom, keyTo) of `text`
  let keyTo = -1;
  let lastFrom = -1; // the last string closed at depth 1, the key it may be
  let lastTo = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const from = i + 1;
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
      if (depth === 1) {
        lastFrom = from;
        lastTo = i;
      }
    } else if (c === 0x3a /* : */ && depth === 1 && lastFrom >= 0) {
      keyFrom = lastFrom;
      keyTo = lastTo;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > MAX_JSON_DEPTH) {
        const topKey = keyFrom >= 0 ? excerpt(text.slice(keyFrom, keyTo), 100) : undefined;
        throw new SidecarError('invalid_request_error',
          `the request body nests deeper than ${MAX_JSON_DEPTH} levels${topKey ? ` (under "${topKey}")` : ''}`, topKey ? { param: topKey } : {});
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
}

function tooLarge(maxBytes: number): SidecarError {
  return new SidecarError('request_too_large', `the request body is larger than server.max_body_bytes (${maxBytes} bytes)`);
}

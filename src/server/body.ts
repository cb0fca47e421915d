/**
 * Reads a JSON request body with a byte limit enforced while it streams in (a 413 is answered as soon as
 * the limit is passed, without buffering the rest), checks that the bytes are valid UTF-8, and parses it.
 * Every failure is a SidecarError naming what was wrong. The content type is not checked: the body is
 * JSON or it is a 400, whatever the header says (`curl -d` sends form-urlencoded, and gateways that
 * refuse it with a 415 only confuse people; the error table of docs/contract.md#streaming-and-errors has no 415
 * either).
 *
 * Bounded: the bytes are taken from the request's share of the process's byte budget as they arrive
 * (the declared Content-Length at once), so a body the budget cannot hold is a 503 before it is read
 * (server/budget.ts). A body of PARSE_OFF_THREAD_BYTES or more is decoded, checked and parsed on a worker
 * thread (one, so at most one big parse runs at a time): parsing 20 MB of JSON on the event loop held
 * every stream and /healthz for over a second. Every check is linear in the body's size.
 */
import type { IncomingMessage } from 'node:http';
import { SidecarError, excerpt } from '../errors.ts';
import type { Reservation } from './budget.ts';
import { type BigStrings, nextTurn, onJsonThread, restoreBigStrings } from './json-thread.ts';
import { KEY_QUOTE_CHARS, MAX_JSON_DEPTH, nestingProblem } from '../json-checks.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bodies this large or larger are parsed off the event loop. */
export const PARSE_OFF_THREAD_BYTES = 1024 * 1024;

export async function readJsonBody(req: IncomingMessage, maxBytes: number, reservation?: Reservation): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw tooLarge(maxBytes);
  }
  let taken = 0;
  if (reservation && Number.isFinite(declared) && declared > 0) {
    reservation.take(declared, 'request bodies');
    taken = declared;
  }
  const parts: Buffer[] = [];
  // A big body of declared length is copied into its one buffer as it arrives, a chunk per event: joining
  // 19 MiB at the end was one ~75 ms copy during which nothing else ran. The buffer is its own (no pool),
  // so it moves to the JSON thread without another copy.
  const whole = Number.isFinite(declared) && declared >= PARSE_OFF_THREAD_BYTES ? new Uint8Array(declared) : undefined;
  let filled = 0; // bytes of `whole` written, the first of the body
  let size = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      if (whole && parts.length === 0 && filled + buf.length <= whole.length) {
        whole.set(buf, filled);
        filled += buf.length;
      } else {
        parts.push(buf);
      }
      size += buf.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      if (reservation && size > taken) {
        reservation.take(size - taken, 'request bodies');
        taken = size;
      }
    }
  } catch (error) {
    if (error instanceof SidecarError) throw error;
    // The socket went before the body was whole: the client left, or Node's server.request_timeout_ms
    // answered 408 and closed it. Nobody is left to answer; this is the client's doing, not ours.
    throw new SidecarError('client_timeout', `the request body did not arrive in full (${(error as Error).message})`);
  }
  if (size === 0) throw new SidecarError('invalid_request_error', 'the request body is empty: expected a JSON object');
  // Node's parser ends a body at its Content-Length, so `whole` is full; anything else is joined.
  const bytes: Uint8Array =
    whole && parts.length === 0 && filled === whole.length
      ? whole
      : !whole && parts.length === 1
        ? parts[0]!
        : Buffer.concat(whole ? [whole.subarray(0, filled), ...parts] : parts, size);
  if (size < PARSE_OFF_THREAD_BYTES) return answer(parseHere(bytes));
  const outcome = await onJsonThread<ParseOutcome>('parse', bytes, (message) => ({ error: 'worker', message }));
  // Receiving the parsed value was one task, its big strings are made strings again in others, and what
  // the request goes through next is another: other streams' events get in between.
  await nextTurn();
  if (!('big' in outcome && outcome.big)) return answer(outcome);
  const value = await restoreBigStrings(outcome.value, outcome.big);
  // Its pages are in: the native body's big strings go to the thread in it (jsonBytes).
  if (reservation) reservation.spare = outcome.big.bytes;
  await nextTurn();
  return value;
}

function answer(outcome: ParseOutcome): unknown {
  if ('value' in outcome) return outcome.value;
  switch (outcome.error) {
    case 'utf8':
      throw new SidecarError('invalid_request_error', 'the request body is not valid UTF-8');
    case 'depth': {
      const key =
        outcome.key === undefined
          ? undefined
          : outcome.keyLength > outcome.key.length
            ? `${outcome.key}… (${outcome.keyLength - outcome.key.length} more characters)`
            : outcome.key;
      throw new SidecarError(
        'invalid_request_error',
        `the request body nests deeper than ${MAX_JSON_DEPTH} levels${key ? ` (under "${key}")` : ''}`,
        key ? { param: key } : {},
      );
    }
    case 'json':
      throw new SidecarError('invalid_request_error', `the request body is not valid JSON: ${excerpt(outcome.message, 300)}`);
    case 'worker':
      throw new SidecarError('internal_error', `the request body could not be parsed: ${outcome.message}`);
  }
}

export type ParseOutcome =
  | { value: unknown; big?: BigStrings }
  | { error: 'utf8' }
  | { error: 'depth'; key: string | undefined; keyLength: number }
  | { error: 'json'; message: string }
  | { error: 'worker'; message: string };

function parseHere(bytes: Uint8Array): ParseOutcome {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { error: 'utf8' };
  }
  const deep = nestingProblem(text, MAX_JSON_DEPTH);
  if (deep) {
    return {
      error: 'depth',
      key: deep[0] < 0 ? undefined : text.slice(deep[0], Math.min(deep[1], deep[0] + KEY_QUOTE_CHARS)),
      keyLength: deep[1] - deep[0],
    };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error: 'json', message: (error as Error).message };
  }
}

function tooLarge(maxBytes: number): SidecarError {
  return new SidecarError('request_too_large', `the request body is larger than server.max_body_bytes (${maxBytes} bytes)`);
}

/**
 * Random hex for the ids a surface gives its answers (`chatcmpl-…`, `msg_bdrk_…`, `resp_…`), cut from a
 * pool of CSPRNG bytes filled 4 KiB at a time: `randomBytes(12)` per id costs ~5 µs (a buffer, a call into
 * OpenSSL and a getpid), a slice of the pool ~0.1 µs. Every byte is handed out once.
 */
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(4096);
let next = POOL.length;

/** `bytes` random bytes (at most 4096) as lowercase hex. */
export function randomHex(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > POOL.length) throw new RangeError(`randomHex: ${bytes} bytes`);
  if (next + bytes > POOL.length) {
    randomFillSync(POOL);
    next = 0;
  }
  const hex = POOL.toString('hex', next, next + bytes);
  next += bytes;
  return hex;
}

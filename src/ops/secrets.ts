/**
 * The secrets this process holds, known by value, so that no client-visible byte and no log line can
 * carry one whatever the text around it looks like. The sidecar exists so that the app never holds the
 * pod's AWS credentials or a Bedrock API key; an upstream (Bedrock, or anything in its place) that echoes
 * request headers in its error text, in a wording no pattern foresaw, would otherwise hand them over.
 *
 * Input: `rememberSecret(slot, value)` wherever a secret enters the process (the credential source on each
 * resolution, the model registry for API keys, the config for `server.auth_token`). Each slot keeps its
 * current and its previous value (an answer to a request signed just before a rotation still names the
 * old one), so memory is bounded by the number of slots. Output: `scrubKnownSecrets(text)`, every known
 * value replaced by `[redacted]`, in the raw form and percent-encoded (a query string or a canonical
 * request); a text that ends (or starts) with a long enough piece of a secret, cut by a length limit on
 * the way, loses that piece too. Values shorter than MIN_SECRET_CHARS are not scrubbed: replacing every
 * occurrence of a 3-character token would mangle any text and protect nothing.
 *
 * Cost: nothing for a text that holds no secret's first characters (one `includes` per known value).
 */

const CENSOR = '[redacted]';
/** Shorter values are not looked for (see above). */
export const MIN_SECRET_CHARS = 6;
/** A cut piece of a secret at either end of a text is redacted from this many characters on. */
const MIN_PIECE_CHARS = 12;

const slots = new Map<string, [current: string, previous: string | undefined]>();
/** Every value to look for (raw and encoded), longest first so a secret containing another goes whole. */
let needles: string[] = [];

/** Records the current value of a secret slot (`aws.sessionToken`, `apiKey:BEDROCK_KEY`, `auth_token`). */
export function rememberSecret(slot: string, value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_CHARS) return;
  const held = slots.get(slot);
  if (held?.[0] === value) return;
  slots.set(slot, [value, held?.[0]]);
  const all = new Set<string>();
  for (const [current, previous] of slots.values()) {
    for (const v of previous === undefined ? [current] : [current, previous]) {
      all.add(v);
      all.add(encodeURIComponent(v));
    }
  }
  needles = [...all].sort((a, b) => b.length - a.length);
}

/** `text` with every known secret (and a cut piece of one at either end) replaced by `[redacted]`. */
export function scrubKnownSecrets(text: string): string {
  if (needles.length === 0 || text.length === 0) return text;
  let out = text;
  for (const needle of needles) {
    if (out.includes(needle)) out = out.split(needle).join(CENSOR);
    out = scrubEdges(out, needle);
  }
  return out;
}

/** A text cut inside a secret: its last characters are the secret's first ones (or the reverse). */
function scrubEdges(text: string, needle: string): string {
  let out = text;
  const head = needle.slice(0, MIN_PIECE_CHARS);
  const at = out.lastIndexOf(head);
  if (at !== -1 && out.length - at < needle.length && needle.startsWith(out.slice(at))) out = out.slice(0, at) + CENSOR;
  const tail = needle.slice(-MIN_PIECE_CHARS);
  const end = out.indexOf(tail);
  if (end !== -1 && end + MIN_PIECE_CHARS < needle.length && needle.endsWith(out.slice(0, end + MIN_PIECE_CHARS))) {
    out = CENSOR + out.slice(end + MIN_PIECE_CHARS);
  }
  return out;
}

/** Forgets every secret (tests only: a process's secrets are remembered for its life). */
export function forgetSecrets(): void {
  slots.clear();
  needles = [];
}

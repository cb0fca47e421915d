/**
 * Splits a leading reasoning block out of model text: `<think>…</think>answer` (DeepSeek R1, Qwen3) or
 * `<reasoning>…</reasoning>answer` (gpt-oss on InvokeModel) becomes reasoning deltas, then text deltas.
 *
 * A pure step machine: `push(text)` returns the events that are certain so far, `end()` flushes what was
 * held. Only the *start* of the output may open a block (text later on that happens to contain the tag is
 * content), so a model that does not reason loses nothing. Bytes are held only while they could still be
 * part of a tag: at most `close.length - 1` characters, and leading whitespace before the open tag. Tags
 * are ASCII, so a held suffix never splits a surrogate pair. The whitespace between the close tag and the
 * answer, and after the open tag, is formatting and is dropped; everything else reaches the client byte
 * for byte, and the output does not depend on how the input was split.
 */
import type { StreamEvent } from '../pipeline/events.ts';

type State = 'start' | 'opened' | 'inside' | 'between' | 'after';

export interface ReasoningTags {
  open: string;
  close: string;
  /** The prompt already opened the block (DeepSeek R1's template ends in `<think>\n`). */
  startInside?: boolean;
  /**
   * With `startInside`: text is held until the close tag proves it was reasoning; output that never
   * closes the block was the answer and goes out as text at the end. Past `maxHeldBytes` the held text is
   * taken for reasoning and streams from then on (a bound, not a guess: only reasoning runs that long).
   */
  holdUntilClose?: boolean;
  maxHeldBytes?: number;
}

const DEFAULT_MAX_HELD_BYTES = 1024 * 1024;

export class ReasoningSplitter {
  private state: State = 'start';
  private held = '';
  /** holdUntilClose: still waiting for proof that the held text is reasoning */
  private undecided: boolean;
  /** UTF-8 bytes held while undecided, and where the close-tag search resumes (keeps both linear). */
  private heldBytes = 0;
  private scanFrom = 0;

  constructor(private readonly tags: ReasoningTags) {
    this.undecided = tags.startInside === true && tags.holdUntilClose === true;
  }

  push(text: string): StreamEvent[] {
    if (text === '') return [];
    const out: StreamEvent[] = [];
    if (this.state === 'inside') this.scanFrom = Math.max(0, this.held.length - this.tags.close.length + 1);
    this.held += text;
    if (this.undecided) this.heldBytes += Buffer.byteLength(text, 'utf8');
    this.step(out);
    return out;
  }

  /** End of the model's text: whatever is held is what it is (an unclosed block stays reasoning). */
  end(): StreamEvent[] {
    const held = this.held;
    this.held = '';
    if (held === '') return [];
    switch (this.state) {
      case 'start':
        if (this.tags.startInside && !this.undecided) return held.trim() === '' ? [] : [{ kind: 'reasoning', text: held.trimStart() }];
        return [{ kind: 'text', text: held }];
      case 'inside':
        return [{ kind: this.undecided ? 'text' : 'reasoning', text: held }];
      default:
        return [];
    }
  }

  private step(out: StreamEvent[]): void {
    for (;;) {
      switch (this.state) {
        case 'start': {
          const trimmed = this.held.trimStart();
          if (trimmed === '' || (trimmed.length < this.tags.open.length && this.tags.open.startsWith(trimmed))) return;
          if (trimmed.startsWith(this.tags.open)) {
            this.held = trimmed.slice(this.tags.open.length);
            this.state = 'opened';
            this.undecided = false; // an explicit open tag is proof enough
          } else if (this.tags.startInside) {
            if (!this.undecided) this.held = trimmed;
            this.state = 'inside';
            this.scanFrom = 0;
          } else {
            this.state = 'after';
          }
          continue;
        }
        case 'opened': {
          // whitespace between the open tag and the reasoning is formatting
          this.held = this.held.trimStart();
          if (this.held === '') return;
          this.state = 'inside';
          this.scanFrom = 0;
          continue;
        }
        case 'inside': {
          const at = this.held.indexOf(this.tags.close, this.scanFrom);
          if (at >= 0) {
            const head = this.held.slice(0, at);
            const reasoning = this.undecided ? head.trimStart() : head;
            this.undecided = false;
            if (reasoning !== '') out.push({ kind: 'reasoning', text: reasoning });
            this.held = this.held.slice(at + this.tags.close.length);
            this.state = 'between';
            continue;
          }
          if (this.undecided) {
            if (this.heldBytes <= (this.tags.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES)) return;
            this.undecided = false;
            this.held = this.held.trimStart();
          }
          const keep = partialSuffix(this.held, this.tags.close);
          const ready = this.held.slice(0, this.held.length - keep);
          if (ready !== '') out.push({ kind: 'reasoning', text: ready });
          this.held = this.held.slice(this.held.length - keep);
          return;
        }
        case 'between': {
          const trimmed = this.held.trimStart();
          this.held = '';
          if (trimmed === '') return;
          this.state = 'after';
          out.push({ kind: 'text', text: trimmed });
          return;
        }
        case 'after': {
          if (this.held !== '') out.push({ kind: 'text', text: this.held });
          this.held = '';
          return;
        }
      }
    }
  }
}

/** Length of the longest proper suffix of `text` that is a prefix of `tag`. */
function partialSuffix(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(tag.slice(0, n))) return n;
  }
  return 0;
}

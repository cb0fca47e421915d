/**
 * An image goes with the format its bytes are (docs/contract.md#request-rules). Clients label an image by its
 * file name or a cache's content type — Claude Code's Read tool by the extension, chat apps by what a CDN said —
 * and Claude on Bedrock checks the label against the bytes and refuses the whole request ("The image was
 * specified using the image/jpeg media type, but the image appears to be a image/png image", as users report
 * from Bedrock), on every later turn of a conversation that holds the image. When the bytes are plainly one of
 * the four formats Bedrock takes (their magic numbers) and the label says another, the label is corrected and a
 * debug line says so; bytes of no known format go as labelled. One rule over the neutral reading (`relabelImages`)
 * and Claude's own Messages body (`relabelClaudeImages`).
 */
import type { ChatMessage, ChatRequest, ImagePart } from './request.ts';

type Format = ImagePart['format'];

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The format base64 image bytes are, read from their first bytes; undefined when none of the four. */
export function sniffImageFormat(base64: string): Format | undefined {
  const head = Buffer.from(base64.slice(0, 16), 'base64');
  if (head.length >= 8 && head.subarray(0, 8).equals(PNG_SIGNATURE)) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  const text = head.toString('latin1');
  if (text.startsWith('GIF87a') || text.startsWith('GIF89a')) return 'gif';
  if (text.startsWith('RIFF') && text.slice(8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** The format to send when the bytes say another than `declared`, else undefined. */
function corrected(declared: string, base64: string): Format | undefined {
  const actual = sniffImageFormat(base64);
  return actual !== undefined && declared !== actual && declared !== `image/${actual}` ? actual : undefined;
}

function noteRelabel(at: string, declared: string, actual: Format, note: (message: string) => void): void {
  note(`${at}: an image labelled ${declared} is ${actual}: sent as image/${actual}`);
}

/** The neutral request with every image labelled as its bytes are (a new request when any label changed). */
export function relabelImages(request: ChatRequest, note: (message: string) => void): ChatRequest {
  let changed = false;
  const messages = request.messages.map((m, i): ChatMessage => {
    if (m.role !== 'user' && m.role !== 'tool') return m;
    let own = false;
    const content = m.content.map((part, j) => {
      if (part.type !== 'image') return part;
      const actual = corrected(part.format, part.data);
      if (actual === undefined) return part;
      own = true;
      noteRelabel(`messages[${i}].content[${j}]`, part.mediaType, actual, note);
      return { ...part, format: actual, mediaType: `image/${actual}` };
    });
    if (!own) return m;
    changed = true;
    return { ...m, content };
  });
  return changed ? { ...request, messages } : request;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Claude's own content blocks with every base64 image labelled as its bytes are (tool results' too). */
function relabelBlocks(blocks: unknown[], at: string, note: (message: string) => void): unknown[] {
  return blocks.map((block, j) => {
    if (!isObject(block)) return block;
    if (block.type === 'tool_result' && Array.isArray(block.content))
      return { ...block, content: relabelBlocks(block.content as unknown[], `${at}[${j}].content`, note) };
    const source = block.type === 'image' && isObject(block.source) ? block.source : undefined;
    if (source?.type !== 'base64' || typeof source.media_type !== 'string' || typeof source.data !== 'string') return block;
    const actual = corrected(source.media_type, source.data);
    if (actual === undefined) return block;
    noteRelabel(`${at}[${j}]`, source.media_type, actual, note);
    return { ...block, source: { ...source, media_type: `image/${actual}` } };
  });
}

/** Claude's own `messages` (Bedrock's body) with every image labelled as its bytes are. */
export function relabelClaudeImages(messages: Json[], note: (message: string) => void): Json[] {
  return messages.map((m, i) =>
    Array.isArray(m.content) ? { ...m, content: relabelBlocks(m.content as unknown[], `messages[${i}].content`, note) } : m,
  );
}

/**
 * The longer side of an image in pixels, from its header (PNG's IHDR, GIF's screen, WebP's VP8 / VP8L / VP8X
 * frame, JPEG's first SOFn segment), or undefined when the bytes do not say.
 */
export function longerSide(base64: string): number | undefined {
  const format = sniffImageFormat(base64);
  if (format === undefined) return undefined;
  const bytes = Buffer.from(base64.slice(0, 87_384), 'base64'); // the first 64 KiB hold any header
  const chunk = bytes.subarray(12, 16).toString('latin1');
  let sides: [number, number] | undefined;
  if (format === 'png' && bytes.length >= 24 && chunk === 'IHDR') sides = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  else if (format === 'gif' && bytes.length >= 10) sides = [bytes.readUInt16LE(6), bytes.readUInt16LE(8)];
  else if (format === 'webp' && chunk === 'VP8X' && bytes.length >= 30) sides = [1 + bytes.readUIntLE(24, 3), 1 + bytes.readUIntLE(27, 3)];
  else if (format === 'webp' && chunk === 'VP8L' && bytes.length >= 25) {
    const bits = bytes.readUInt32LE(21);
    sides = [1 + (bits & 0x3fff), 1 + ((bits >>> 14) & 0x3fff)];
  } else if (format === 'webp' && chunk === 'VP8 ' && bytes.length >= 30)
    sides = [bytes.readUInt16LE(26) & 0x3fff, bytes.readUInt16LE(28) & 0x3fff];
  else if (format === 'jpeg') sides = jpegSides(bytes);
  return sides === undefined ? undefined : Math.max(...sides);
}

/** A JPEG's width and height from its first start-of-frame segment, every segment before it skipped. */
function jpegSides(bytes: Buffer): [number, number] | undefined {
  let at = 2;
  while (at + 9 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    // SOF0–SOF15, but not DHT (C4), JPG (C8) or DAC (CC), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return [bytes.readUInt16BE(at + 7), bytes.readUInt16BE(at + 5)];
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return undefined;
}

// What an image's bytes are, read from their first bytes (the formats' magic numbers), for the models that
// check a declared image format against the bytes it labels.
// Sources: PNG (RFC 2083 §3.1 signature), JPEG (SOI marker FF D8 FF), GIF ("GIF87a" / "GIF89a"),
// WebP (RIFF container, "WEBP" at offset 8).

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

/** The format base64 image bytes are, or undefined when they are none of the four Bedrock takes. */
export function imageFormatOf(base64: string): ImageFormat | undefined {
  const head = Buffer.from(base64.slice(0, 16), 'base64');
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 6 && /^GIF8[79]a$/.test(head.subarray(0, 6).toString('latin1'))) return 'gif';
  if (head.length >= 12 && head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP')
    return 'webp';
  return undefined;
}

/**
 * Claude's refusal of an image whose bytes are another of the four formats than the one declared (its words, as
 * Bedrock relays them: "The image was specified using the image/jpeg media type, but the image appears to be a
 * image/png image"), or undefined. Bytes of no known format are left to the model.
 */
export function imageLabelProblem(at: string, declared: string, base64: string): string | undefined {
  const actual = imageFormatOf(base64);
  if (actual === undefined || `image/${actual}` === declared) return undefined;
  return `${at}: The image was specified using the ${declared} media type, but the image appears to be a image/${actual} image`;
}

/**
 * An image's width and height, read from its header (PNG IHDR; GIF logical screen; WebP VP8 / VP8L / VP8X; JPEG's
 * first start-of-frame marker), or undefined when the bytes do not say.
 */
export function imageSizeOf(base64: string): { width: number; height: number } | undefined {
  const bytes = Buffer.from(base64.slice(0, 87_384), 'base64'); // 64 KiB: far past any header a frame marker follows
  const ascii = (from: number, to: number): string => bytes.subarray(from, to).toString('latin1');
  switch (imageFormatOf(base64)) {
    case 'png':
      return bytes.length >= 24 && ascii(12, 16) === 'IHDR' ? { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) } : undefined;
    case 'gif':
      return bytes.length >= 10 ? { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) } : undefined;
    case 'webp':
      if (bytes.length >= 30 && ascii(12, 16) === 'VP8X')
        return { width: 1 + bytes.readUIntLE(24, 3), height: 1 + bytes.readUIntLE(27, 3) };
      if (bytes.length >= 25 && ascii(12, 16) === 'VP8L') {
        const bits = bytes.readUInt32LE(21);
        return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
      }
      if (bytes.length >= 30 && ascii(12, 16) === 'VP8 ')
        return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
      return undefined;
    case 'jpeg':
      return jpegSize(bytes);
    case undefined:
      return undefined;
  }
}

/** A JPEG's size from its first SOFn segment (every marker before it skipped by its length). */
function jpegSize(bytes: Buffer): { width: number; height: number } | undefined {
  let at = 2;
  while (at + 9 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return { width: bytes.readUInt16BE(at + 7), height: bytes.readUInt16BE(at + 5) };
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return undefined;
}

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

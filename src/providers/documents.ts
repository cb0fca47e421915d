/**
 * Documents (docs/contract.md#request-rules): a file sent inline as a `data:` URL (or an Anthropic Messages
 * `document` block, read by its surface with `documentFormat` and `documentPart`) becomes a DocumentPart —
 * its format read from the media type (or, for a generic type, the file name), its name rewritten to the
 * alphabet Bedrock allows in a DocumentBlock name (letters, digits, single spaces, hyphens, parentheses,
 * square brackets). Which models take documents on which route (the route adapter's `documents`, from the
 * family's file) is checked before any body is built: a document is content, so it is never dropped — a
 * model that cannot read it is a 400 naming the part (a tool result's document, on a surface that drops what
 * a target cannot read, is dropped and logged instead: `checkToolResults`).
 */
import { SidecarError } from '../errors.ts';
import { partAt } from './paths.ts';
import type { ChatRequest, DocumentFormat, DocumentPart } from './request.ts';
import type { DocumentSupport } from './types.ts';
import { own } from '../own.ts';

const BY_MEDIA_TYPE: Readonly<Record<string, DocumentFormat>> = {
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/markdown': 'md',
  'text/x-markdown': 'md',
};
const FORMATS: ReadonlySet<DocumentFormat> = new Set(Object.values(BY_MEDIA_TYPE));
/** Every format Bedrock reads: what a model that reads documents on converse takes. */
export const EVERY_DOCUMENT: DocumentSupport = { formats: FORMATS };
const MEDIA_TYPE_OF: Readonly<Record<DocumentFormat, string>> = {
  pdf: 'application/pdf',
  csv: 'text/csv',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  html: 'text/html',
  txt: 'text/plain',
  md: 'text/markdown',
};

/** Bedrock's limits for documents in one request (Converse DocumentBlock). */
export const MAX_DOCUMENTS = 5;
export const MAX_DOCUMENT_BYTES = 4.5 * 1024 * 1024;

/** The document format Bedrock reads for a media type, or undefined for one it does not read as a document. */
export function documentFormat(mediaType: string): DocumentFormat | undefined {
  const key = mediaType.toLowerCase();
  return own(BY_MEDIA_TYPE, key);
}

/** Whether base64 `data` decodes to more than Bedrock's per-document limit. */
export function overDocumentLimit(data: string): boolean {
  return Math.floor((data.length * 3) / 4) > MAX_DOCUMENT_BYTES;
}

/** A DocumentPart of a known format (its media type follows), named `name`, with base64 `data`. */
export function documentPart(format: DocumentFormat, name: string, data: string): DocumentPart {
  return { type: 'document', format, mediaType: MEDIA_TYPE_OF[format], name, data };
}

const DATA_URL = /^data:([a-zA-Z0-9.+-]+\/[a-zA-Z0-9.+-]+)(?:;[a-zA-Z0-9_-]+=[^;,]*)*;base64,([A-Za-z0-9+/=\s]*)$/;

function unsupported(where: string, message: string): SidecarError {
  return new SidecarError('unsupported_parameter', `${where}: ${message}`, { param: where });
}

/** A document name in Bedrock's alphabet: the file name without its extension, other characters as hyphens. */
export function documentName(filename: string | undefined, fallback: string): string {
  const stem = (filename ?? '').replace(/\.[A-Za-z0-9]{1,5}$/, '');
  const clean = stem
    .replace(/[^A-Za-z0-9\s\-()[\]]/g, '-')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200)
    .trim();
  return clean === '' ? fallback : clean;
}

/**
 * A `data:` URL (and optional file name) → a DocumentPart, or a 400 naming `where`. A generic media type
 * (`application/octet-stream`) takes its format from the file's extension.
 */
export function documentFromDataUrl(url: string, filename: string | undefined, where: string, index: number): DocumentPart {
  const match = DATA_URL.exec(url);
  if (!match)
    throw new SidecarError('invalid_request_error', `${where}: file_data must be a data:<media type>;base64,<data> URL`, { param: where });
  const mediaType = match[1]!.toLowerCase();
  let format = documentFormat(mediaType);
  const extension = /\.([A-Za-z0-9]{1,5})$/.exec(filename ?? '')?.[1]?.toLowerCase();
  if (
    format === undefined &&
    (mediaType === 'application/octet-stream' || mediaType === 'binary/octet-stream') &&
    extension !== undefined &&
    FORMATS.has(extension as DocumentFormat)
  ) {
    format = extension as DocumentFormat;
  }
  if (format === undefined) {
    throw unsupported(where, `a ${mediaType} file is not a document Bedrock reads (PDF, CSV, DOC, DOCX, XLS, XLSX, HTML, TXT, MD)`);
  }
  const data = match[2]!.replace(/\s+/g, '');
  if (data === '') throw new SidecarError('invalid_request_error', `${where}: the file is empty`, { param: where });
  if (overDocumentLimit(data)) {
    throw new SidecarError('invalid_request_error', `${where}: a document may be at most 4.5 MB (Bedrock's limit)`, { param: where });
  }
  return documentPart(format, documentName(filename, `document ${index + 1}`), data);
}

/**
 * A document already in Bedrock's own terms (a Converse DocumentBlock from an AWS SDK app: its format, its
 * name as the client gave it, base64 bytes) → a DocumentPart, or a 400 naming `where`. The name is kept as
 * it is: Bedrock judges it, as it would the app's direct call.
 */
export function documentFromBlock(format: unknown, name: unknown, data: unknown, where: string): DocumentPart {
  if (typeof format !== 'string' || !FORMATS.has(format as DocumentFormat)) {
    throw new SidecarError('invalid_request_error', `${where}.format: must be one of ${[...FORMATS].join(', ')}`, {
      param: `${where}.format`,
    });
  }
  if (typeof name !== 'string' || name === '') {
    throw new SidecarError('invalid_request_error', `${where}.name: a document needs a name`, { param: `${where}.name` });
  }
  if (typeof data !== 'string' || data === '') {
    throw new SidecarError('invalid_request_error', `${where}.source.bytes: must be the document's bytes (base64)`, {
      param: `${where}.source.bytes`,
    });
  }
  if (overDocumentLimit(data)) {
    throw new SidecarError('invalid_request_error', `${where}: a document may be at most 4.5 MB (Bedrock's limit)`, { param: where });
  }
  return documentPart(format as DocumentFormat, name, data);
}

/**
 * Checks the request's documents against what the model takes on its route (`support`; `what` names the
 * model and route in the 400) and Bedrock's per-request limits; makes the names unique (Bedrock refuses two
 * documents with one name). Returns the request.
 */
export function prepareDocuments(request: ChatRequest, support: DocumentSupport | undefined, what: string): ChatRequest {
  let count = 0;
  const names = new Set<string>();
  const messages = request.messages.map((m, i) => {
    // A user's documents, and those in tool results (Bedrock's Converse surface).
    if ((m.role !== 'user' && m.role !== 'tool') || !m.content.some((p) => p.type === 'document')) return m;
    const content = m.content.map((part, j) => {
      if (part.type !== 'document') return part;
      const where = partAt(m, i, j);
      count++;
      if (count > MAX_DOCUMENTS) throw unsupported(where, `at most ${MAX_DOCUMENTS} documents per request (Bedrock's limit)`);
      if (support?.formats.has(part.format) !== true) {
        const hint = support?.hint !== undefined ? ` (${support.hint})` : '';
        throw unsupported(where, `${what} takes no ${part.format.toUpperCase()} documents${hint}`);
      }
      let name = part.name;
      for (let n = 2; names.has(name.toLowerCase()); n++) name = `${part.name} (${n})`;
      names.add(name.toLowerCase());
      return name === part.name ? part : { ...part, name };
    });
    return { ...m, content };
  });
  return count === 0 ? request : { ...request, messages };
}

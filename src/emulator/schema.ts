// A tiny structural schema checker for request bodies, plus the two error dialects Bedrock speaks:
// - pydantic style (Anthropic's model-side validator): `messages.0.content.0.foo: Extra inputs are not permitted`;
// - JSON-schema style (Bedrock's everit validator for Titan/Nova, docs/bedrock-wire.md#unknown-keys):
//   `Malformed input request: #/messages/0: extraneous key [foo] is not permitted, please reformat your input and try again.`
// Input: a parsed JSON value and a schema. Output: the list of problems, in document order.

export type Schema =
  | { kind: 'object'; props: Record<string, Prop>; open?: boolean }
  | { kind: 'array'; items: Schema; minItems?: number; maxItems?: number }
  | { kind: 'string'; enum?: readonly string[]; minLength?: number }
  | { kind: 'number'; integer?: boolean; min?: number; max?: number }
  | { kind: 'boolean' }
  | { kind: 'any' }
  /** First option whose base type matches the value is used; otherwise the last option's type error. */
  | { kind: 'oneOf'; options: Schema[] }
  /** Discriminated by a string member (`type`); `missing` applies when the tag is absent, `other` to
   *  unlisted tags; without them those cases are errors. */
  | { kind: 'tagged'; tag: string; variants: Record<string, Schema>; missing?: Schema; other?: Schema }
  /** A discriminated union where exactly one member key is present (Converse/Nova `ContentBlock`). */
  | { kind: 'union'; members: Record<string, Schema> };

export interface Prop {
  s: Schema;
  required?: boolean;
}

export type Path = (string | number)[];

export type Problem =
  | { code: 'extra'; path: Path; key: string }
  | { code: 'required'; path: Path; key: string }
  | { code: 'type'; path: Path; expected: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean'; found: string }
  | { code: 'enum'; path: Path; allowed: readonly string[]; value: unknown }
  | { code: 'min'; path: Path; min: number; value: number }
  | { code: 'max'; path: Path; max: number; value: number }
  | { code: 'minItems'; path: Path; min: number; found: number }
  | { code: 'maxItems'; path: Path; max: number; found: number }
  | { code: 'minLength'; path: Path; min: number; value: string }
  | { code: 'tag'; path: Path; tag: string; value: unknown; allowed: string[] }
  | { code: 'union'; path: Path; found: string[]; allowed: string[] };

// Small constructors keep family schemas readable.
export const obj = (props: Record<string, Prop>, open = false): Schema => ({ kind: 'object', props, open });
export const arr = (items: Schema, minItems?: number, maxItems?: number): Schema => ({ kind: 'array', items, minItems, maxItems });
export const str = (values?: readonly string[], minLength?: number): Schema => ({ kind: 'string', enum: values, minLength });
export const num = (min?: number, max?: number): Schema => ({ kind: 'number', min, max });
export const int = (min?: number, max?: number): Schema => ({ kind: 'number', integer: true, min, max });
export const bool: Schema = { kind: 'boolean' };
export const any: Schema = { kind: 'any' };
export const req = (s: Schema): Prop => ({ s, required: true });
export const opt = (s: Schema): Prop => ({ s });
export const oneOf = (...options: Schema[]): Schema => ({ kind: 'oneOf', options });
export const tagged = (tag: string, variants: Record<string, Schema>, rest: { missing?: Schema; other?: Schema } = {}): Schema => ({
  kind: 'tagged',
  tag,
  variants,
  ...rest,
});
export const union = (members: Record<string, Schema>): Schema => ({ kind: 'union', members });

export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function baseMatches(s: Schema, v: unknown): boolean {
  switch (s.kind) {
    case 'object':
    case 'tagged':
    case 'union':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && (!s.integer || Number.isInteger(v));
    case 'boolean':
      return typeof v === 'boolean';
    case 'any':
      return true;
    case 'oneOf':
      return s.options.some((o) => baseMatches(o, v));
  }
}

export function check(s: Schema, v: unknown, path: Path = [], out: Problem[] = []): Problem[] {
  switch (s.kind) {
    case 'any':
      return out;
    case 'oneOf': {
      const chosen = s.options.find((o) => baseMatches(o, v)) ?? s.options[s.options.length - 1]!;
      return check(chosen, v, path, out);
    }
    case 'string':
      if (typeof v !== 'string') out.push({ code: 'type', path, expected: 'string', found: jsonType(v) });
      else if (s.enum && !s.enum.includes(v)) out.push({ code: 'enum', path, allowed: s.enum, value: v });
      else if (s.minLength !== undefined && v.length < s.minLength) out.push({ code: 'minLength', path, min: s.minLength, value: v });
      return out;
    case 'number':
      if (typeof v !== 'number' || (s.integer && !Number.isInteger(v))) {
        out.push({ code: 'type', path, expected: s.integer ? 'integer' : 'number', found: jsonType(v) });
      } else if (s.min !== undefined && v < s.min) out.push({ code: 'min', path, min: s.min, value: v });
      else if (s.max !== undefined && v > s.max) out.push({ code: 'max', path, max: s.max, value: v });
      return out;
    case 'boolean':
      if (typeof v !== 'boolean') out.push({ code: 'type', path, expected: 'boolean', found: jsonType(v) });
      return out;
    case 'array':
      if (!Array.isArray(v)) {
        out.push({ code: 'type', path, expected: 'array', found: jsonType(v) });
        return out;
      }
      if (s.minItems !== undefined && v.length < s.minItems) out.push({ code: 'minItems', path, min: s.minItems, found: v.length });
      if (s.maxItems !== undefined && v.length > s.maxItems) out.push({ code: 'maxItems', path, max: s.maxItems, found: v.length });
      v.forEach((item, i) => check(s.items, item, [...path, i], out));
      return out;
    case 'object': {
      if (!isObject(v)) {
        out.push({ code: 'type', path, expected: 'object', found: jsonType(v) });
        return out;
      }
      for (const key of Object.keys(v)) {
        // Own keys only: `constructor` or `__proto__` in a body must not find Object.prototype's members.
        const prop = Object.hasOwn(s.props, key) ? s.props[key] : undefined;
        if (prop) check(prop.s, v[key], [...path, key], out);
        else if (!s.open) out.push({ code: 'extra', path, key });
      }
      for (const [key, prop] of Object.entries(s.props)) {
        if (prop.required && !Object.hasOwn(v, key)) out.push({ code: 'required', path, key });
      }
      return out;
    }
    case 'tagged': {
      if (!isObject(v)) {
        out.push({ code: 'type', path, expected: 'object', found: jsonType(v) });
        return out;
      }
      const tag = v[s.tag];
      const variant = typeof tag === 'string' && Object.hasOwn(s.variants, tag) ? s.variants[tag] : undefined;
      if (variant) return check(variant, v, path, out);
      if (tag === undefined && s.missing) return check(s.missing, v, path, out);
      if (typeof tag === 'string' && s.other) return check(s.other, v, path, out);
      out.push({ code: 'tag', path, tag: s.tag, value: tag, allowed: Object.keys(s.variants) });
      return out;
    }
    case 'union': {
      if (!isObject(v)) {
        out.push({ code: 'type', path, expected: 'object', found: jsonType(v) });
        return out;
      }
      const keys = Object.keys(v);
      const known = keys.filter((k) => Object.hasOwn(s.members, k));
      const unknown = keys.filter((k) => !Object.hasOwn(s.members, k));
      if (unknown.length > 0 || known.length !== 1) {
        out.push({ code: 'union', path, found: keys, allowed: Object.keys(s.members) });
        return out;
      }
      const key = known[0]!;
      return check(s.members[key]!, v[key], [...path, key], out);
    }
  }
}

// ---- pydantic dialect (Anthropic) ----

const PYDANTIC_TYPE: Record<string, string> = {
  object: 'Input should be a valid dictionary',
  array: 'Input should be a valid list',
  string: 'Input should be a valid string',
  number: 'Input should be a valid number',
  integer: 'Input should be a valid integer',
  boolean: 'Input should be a valid boolean',
};

function dotted(path: Path, key?: string): string {
  return [...path, ...(key === undefined ? [] : [key])].join('.');
}

function listWords(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  return quoted.length <= 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

export function pydanticMessage(p: Problem): string {
  switch (p.code) {
    case 'extra':
      return `${dotted(p.path, p.key)}: Extra inputs are not permitted`;
    case 'required':
      return `${dotted(p.path, p.key)}: Field required`;
    case 'type':
      return `${dotted(p.path)}: ${PYDANTIC_TYPE[p.expected]}`;
    case 'enum':
      return `${dotted(p.path)}: Input should be ${listWords(p.allowed)}`;
    case 'min':
      return `${dotted(p.path)}: Input should be greater than or equal to ${p.min}`;
    case 'max':
      return `${dotted(p.path)}: Input should be less than or equal to ${p.max}`;
    case 'minItems':
      return `${dotted(p.path)}: List should have at least ${p.min} item${p.min === 1 ? '' : 's'} after validation, not ${p.found}`;
    case 'maxItems':
      return `${dotted(p.path)}: List should have at most ${p.max} item${p.max === 1 ? '' : 's'} after validation, not ${p.found}`;
    case 'minLength':
      return `${dotted(p.path)}: String should have at least ${p.min} character${p.min === 1 ? '' : 's'}`;
    case 'tag':
      return p.value === undefined
        ? `${dotted(p.path)}: Unable to extract tag using discriminator '${p.tag}'`
        : `${dotted(p.path)}: Input tag '${typeof p.value === 'string' ? p.value : JSON.stringify(p.value)}' found using '${p.tag}' does not match any of the expected tags: ${p.allowed.map((a) => `'${a}'`).join(', ')}`;
    case 'union':
      return `${dotted(p.path)}: exactly one of ${p.allowed.join(', ')} must be set, found: ${p.found.join(', ') || 'none'}`;
  }
}

// ---- JSON-schema dialect (Bedrock everit validator) ----

function pointer(path: Path): string {
  return path.length === 0 ? '#' : '#/' + path.join('/');
}

const EVERIT_TYPE: Record<string, string> = {
  object: 'JSONObject',
  array: 'JSONArray',
  string: 'String',
  number: 'Number',
  integer: 'Integer',
  boolean: 'Boolean',
  null: 'null',
};

export function jsonSchemaMessage(p: Problem): string {
  switch (p.code) {
    case 'extra':
      return `${pointer(p.path)}: extraneous key [${p.key}] is not permitted`;
    case 'required':
      return `${pointer(p.path)}: required key [${p.key}] not found`;
    case 'type':
      return `${pointer(p.path)}: expected type: ${EVERIT_TYPE[p.expected]}, found: ${EVERIT_TYPE[p.found] ?? p.found}`;
    case 'enum':
      return `${pointer(p.path)}: ${String(p.value)} is not a valid enum value`;
    case 'min':
      return `${pointer(p.path)}: ${p.value} is not greater or equal to ${p.min}`;
    case 'max':
      return `${pointer(p.path)}: ${p.value} is not less or equal to ${p.max}`;
    case 'minItems':
      return `${pointer(p.path)}: expected minimum item count: ${p.min}, found: ${p.found}`;
    case 'maxItems':
      return `${pointer(p.path)}: expected maximum item count: ${p.max}, found: ${p.found}`;
    case 'minLength':
      return `${pointer(p.path)}: expected minLength: ${p.min}`;
    case 'tag':
      return `${pointer(p.path)}: ${String(p.value)} is not a valid enum value`;
    case 'union':
      return `${pointer(p.path)}: #: only 1 subschema matches out of ${p.allowed.length}`;
  }
}

/** Bedrock's JSON-schema validator reports every problem, concatenated, inside one sentence. */
export function jsonSchemaReport(problems: Problem[]): string {
  return `Malformed input request: ${problems.map(jsonSchemaMessage).join('')}, please reformat your input and try again.`;
}

// ---- Smithy/Coral constraint dialect (Converse, ApplyGuardrail) ----

function shown(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * A Smithy/Coral member path: a list's element is `<index>.member` (Bedrock's own words: "Value '' at
 * 'toolConfig.tools.1.member.toolSpec.description'", BerriAI/litellm #24668; "messages.1.member.content").
 */
function smithyPath(path: Path, key?: string): string {
  return [...path, ...(key === undefined ? [] : [key])].map((part) => (typeof part === 'number' ? `${part}.member` : part)).join('.');
}

export function smithyConstraint(p: Problem): string {
  const at = `at '${smithyPath(p.path)}'`;
  switch (p.code) {
    case 'required':
      return `Value null at '${smithyPath(p.path, p.key)}' failed to satisfy constraint: Member must not be null`;
    case 'type':
      return `Value ${at} failed to satisfy constraint: Member must be of type ${p.expected}`;
    case 'enum':
      return `Value '${shown(p.value)}' ${at} failed to satisfy constraint: Member must satisfy enum value set: [${p.allowed.join(', ')}]`;
    case 'min':
      return `Value '${p.value}' ${at} failed to satisfy constraint: Member must have value greater than or equal to ${p.min}`;
    case 'max':
      return `Value '${p.value}' ${at} failed to satisfy constraint: Member must have value less than or equal to ${p.max}`;
    case 'minItems':
      return `Value ${at} failed to satisfy constraint: Member must have length greater than or equal to ${p.min}`;
    case 'maxItems':
      return `Value ${at} failed to satisfy constraint: Member must have length less than or equal to ${p.max}`;
    case 'minLength':
      return `Value '${p.value}' ${at} failed to satisfy constraint: Member must have length greater than or equal to ${p.min}`;
    case 'tag':
      return `Value '${shown(p.value)}' ${at} failed to satisfy constraint: Member must satisfy enum value set: [${p.allowed.join(', ')}]`;
    case 'union':
      return `Value ${at} failed to satisfy constraint: Member must set exactly one of [${p.allowed.join(', ')}], found [${p.found.join(', ')}]`;
    case 'extra':
      return `${pointer(p.path)}: extraneous key [${p.key}] is not permitted`;
  }
}

/**
 * Converse-style report. Unknown members use Bedrock's observed "extraneous key" wording (the only wording
 * Bedrock is seen to use for an unexpected key); constraint violations use the Smithy/Coral form
 * `N validation error(s) detected: Value … at 'path' failed to satisfy constraint: …`.
 */
export function smithyReport(problems: Problem[]): string {
  const extras = problems.filter((p) => p.code === 'extra');
  if (extras.length > 0) return jsonSchemaReport(extras);
  const n = problems.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${problems.map(smithyConstraint).join('; ')}`;
}

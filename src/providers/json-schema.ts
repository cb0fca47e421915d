/**
 * Bedrock's structured outputs (Converse `outputConfig.textFormat`, an open-weight model's `response_format`
 * on invoke) compile the schema into a grammar and take an object schema only with `additionalProperties`
 * set to `false` ("For 'object' type, 'additionalProperties' must be explicitly set to false"; every example
 * AWS gives, and the real recording in test/fixtures/real-traffic, sets it). OpenAI's `response_format`
 * does not require it unless `strict`, so a client's schema often leaves it out: it is added to every object
 * schema that names its properties and does not say. A schema that says otherwise is sent as written, and so
 * is an object schema with no `properties` (a free-form map): closed it would allow only `{}`, so Bedrock's
 * refusal, naming the rule, is better than an answer silently emptied.
 *
 * Claude's grammar takes fewer keywords still (`claudeSchema`). Both are pure: the same schema always gives
 * the same bytes, so Bedrock's cache of compiled grammars and the prompt cache keep working.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Members whose value is one subschema. */
const ONE = ['items', 'additionalItems', 'contains', 'not', 'if', 'then', 'else', 'propertyNames', 'unevaluatedItems'];
/** Members whose value is a list of subschemas. */
const LIST = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
/** Members whose value maps names to subschemas. */
const MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

/**
 * A copy of the schema with `visit` applied to every subschema, innermost first. `at` is the subschema's
 * place (`properties.tags.items`; '' for the schema itself). Values that are data (`enum`, `const`,
 * `default`, `examples`) and the names in a `properties` map are never taken for keywords.
 */
function mapSubschemas(schema: Json, visit: (subschema: Json, at: string) => Json, at = ''): Json {
  const out: Json = { ...schema };
  const place = (key: string): string => (at === '' ? key : `${at}.${key}`);
  for (const key of ONE) if (isObject(out[key])) out[key] = mapSubschemas(out[key], visit, place(key));
  for (const key of LIST) {
    const list = out[key];
    if (Array.isArray(list))
      out[key] = list.map((item: unknown, i) => (isObject(item) ? mapSubschemas(item, visit, place(`${key}.${i}`)) : item));
  }
  for (const key of MAP) {
    const map = out[key];
    if (isObject(map))
      out[key] = Object.fromEntries(
        Object.entries(map).map(([name, s]) => [name, isObject(s) ? mapSubschemas(s, visit, place(`${key}.${name}`)) : s]),
      );
  }
  if (isObject(out.additionalProperties))
    out.additionalProperties = mapSubschemas(out.additionalProperties, visit, place('additionalProperties'));
  return visit(out, at);
}

/** The schema with `additionalProperties: false` on every object schema that names its properties and does not set it (a copy). */
export function closedSchema(schema: Json): Json {
  return mapSubschemas(schema, (s) =>
    s.additionalProperties === undefined && isObject(s.properties) ? { ...s, additionalProperties: false } : s,
  );
}

/**
 * The JSON-Schema constraint keywords Claude's structured outputs refuse, wherever they stand: Anthropic's
 * "JSON Schema limitations" (numerical constraints, `minLength` / `maxLength`, array constraints beyond a
 * `minItems` of 0 or 1) and Bedrock's own words for them ("output_config.format.schema: For 'number' type,
 * properties maximum, minimum are not supported", "For 'array' type, property 'maxItems' is not supported",
 * "… property 'uniqueItems' …": litellm #29624 2026-06, vercel/ai #17558 2026-07, instructor #2530 2026-08).
 * Zod's `z.int()` alone adds `minimum` / `maximum`; Pydantic's `Field(ge=…, max_length=…)` the others.
 */
const CLAUDE_REFUSED = [
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'maxItems',
  'uniqueItems',
] as const;

/**
 * A structured-output schema as Claude takes it (a copy, closed or not as it came), done as Anthropic's
 * own SDKs do (`transformJSONSchema` in @anthropic-ai/sdk, `transform_schema` in anthropic-python): each
 * keyword Claude refuses leaves its subschema and is appended to that subschema's `description` as
 * `{minimum: 0, maximum: 1}` (after the client's own text and a blank line), so the model still reads it.
 * A `minItems` above 1 becomes 1, the part of it the grammar can hold, and its value goes to the
 * description the same way. `changed` names each place and what moved, for the debug log; the client still
 * validates the answer against its own schema.
 */
export function claudeSchema(schema: Json): { schema: Json; changed: string[] } {
  const changed: string[] = [];
  const out = mapSubschemas(schema, (s, at) => {
    const moved: string[] = [];
    const next: Json = { ...s };
    for (const key of CLAUDE_REFUSED) {
      if (next[key] === undefined) continue;
      moved.push(`${key}: ${JSON.stringify(next[key])}`);
      delete next[key];
    }
    const minItems = next.minItems;
    if (minItems !== undefined && minItems !== 0 && minItems !== 1) {
      moved.push(`minItems: ${JSON.stringify(minItems)}`);
      if (typeof minItems === 'number' && minItems > 1) next.minItems = 1;
      else delete next.minItems;
    }
    if (moved.length === 0) return s;
    const text = `{${moved.join(', ')}}`;
    next.description = typeof next.description === 'string' && next.description !== '' ? `${next.description}\n\n${text}` : text;
    changed.push(`${at === '' ? 'the schema' : at}: ${moved.join(', ')}`);
    return next;
  });
  return { schema: out, changed };
}

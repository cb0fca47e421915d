/**
 * Bedrock's structured outputs (Converse `outputConfig.textFormat`, an open-weight model's `response_format`
 * on invoke) compile the schema into a grammar and take an object schema only with `additionalProperties`
 * set to `false` ("For 'object' type, 'additionalProperties' must be explicitly set to false"; every example
 * AWS gives, and the real recording in test/fixtures/real-traffic, sets it). OpenAI's `response_format`
 * does not require it unless `strict`, so a client's schema often leaves it out: it is added wherever an
 * object schema does not say, and a schema that says otherwise is sent as written.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Members whose value is one subschema. */
const ONE = ['items', 'additionalItems', 'contains', 'not', 'if', 'then', 'else', 'propertyNames', 'unevaluatedItems'];
/** Members whose value is a list of subschemas. */
const LIST = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
/** Members whose value maps names to subschemas. */
const MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

function isObjectSchema(schema: Json): boolean {
  const type = schema.type;
  return type === 'object' || (Array.isArray(type) && type.includes('object')) || isObject(schema.properties);
}

/** The schema with `additionalProperties: false` on every object schema that does not set it (a copy; the client's is kept). */
export function closedSchema(schema: Json): Json {
  const out: Json = { ...schema };
  for (const key of ONE) if (isObject(out[key])) out[key] = closedSchema(out[key]);
  for (const key of LIST) {
    const list = out[key];
    if (Array.isArray(list)) out[key] = list.map((item: unknown) => (isObject(item) ? closedSchema(item) : item));
  }
  for (const key of MAP) {
    const map = out[key];
    if (isObject(map)) out[key] = Object.fromEntries(Object.entries(map).map(([name, s]) => [name, isObject(s) ? closedSchema(s) : s]));
  }
  if (isObject(out.additionalProperties)) out.additionalProperties = closedSchema(out.additionalProperties);
  else if (out.additionalProperties === undefined && isObjectSchema(out)) out.additionalProperties = false;
  return out;
}

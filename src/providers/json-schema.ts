/**
 * Bedrock's structured outputs (Converse `outputConfig.textFormat`, an open-weight model's `response_format`
 * on invoke) compile the schema into a grammar and take an object schema only with `additionalProperties`
 * set to `false` ("For 'object' type, 'additionalProperties' must be explicitly set to false"; every example
 * AWS gives, and the real recording in test/fixtures/real-traffic, sets it). OpenAI's `response_format`
 * does not require it unless `strict`, so a client's schema often leaves it out: it is added to every object
 * schema that names its properties and does not say. A schema that says otherwise is sent as written, and so
 * is an object schema with no `properties` (a free-form map): closed it would allow only `{}`, so Bedrock's
 * refusal, naming the rule, is better than an answer silently emptied.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Members whose value is one subschema. */
const ONE = ['items', 'additionalItems', 'contains', 'not', 'if', 'then', 'else', 'propertyNames', 'unevaluatedItems'];
/** Members whose value is a list of subschemas. */
const LIST = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
/** Members whose value maps names to subschemas. */
const MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

/** An object schema that names its properties (what closing keeps meaning the same). */
function namesProperties(schema: Json): boolean {
  return isObject(schema.properties);
}

/** The schema with `additionalProperties: false` on every object schema that names its properties and does not set it (a copy). */
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
  else if (out.additionalProperties === undefined && namesProperties(out)) out.additionalProperties = false;
  return out;
}

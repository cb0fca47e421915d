// Structured outputs as Bedrock takes them: Bedrock compiles a JSON schema into a grammar and takes an object
// schema only closed. Every AWS example sets `additionalProperties: false`, and users report the refusal of
// one that does not (future-agi, 2026-05: "For 'object' type, 'additionalProperties' must be explicitly set
// to false"). One rule for every place a schema is given: Converse's `outputConfig.textFormat` (converse.ts)
// and the `response_format` of an OpenAI-shaped InvokeModel body (families/openai-chat.ts). Claude's grammar
// also refuses constraint keywords (`claudeConstraintProblem`), on Converse and in its own `output_config.format`.
import { isJson } from './families/types.ts';

export const OPEN_OBJECT_SCHEMA = "For 'object' type, 'additionalProperties' must be explicitly set to false";

/** Whether a JSON schema has an object schema anywhere in it that does not set `additionalProperties: false`. */
export function hasOpenObject(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(hasOpenObject);
  if (!isJson(schema)) return false;
  const type = schema.type;
  const isObjectSchema = type === 'object' || (Array.isArray(type) && type.includes('object')) || isJson(schema.properties);
  if (isObjectSchema && schema.additionalProperties !== false) return true;
  return Object.entries(schema).some(
    ([key, value]) => key !== 'enum' && key !== 'const' && key !== 'default' && key !== 'examples' && hasOpenObject(value),
  );
}

/** Members whose value maps names to subschemas (the names are not keywords). */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
/** Members whose value is data, not a schema. */
const DATA = new Set(['enum', 'const', 'default', 'examples']);

/** Every subschema of a JSON schema, the schema first, in document order. */
function* subschemas(schema: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(schema)) {
    for (const item of schema) yield* subschemas(item);
    return;
  }
  if (!isJson(schema)) return;
  yield schema;
  for (const [key, value] of Object.entries(schema)) {
    if (DATA.has(key)) continue;
    if (SCHEMA_MAPS.has(key) && isJson(value)) for (const member of Object.values(value)) yield* subschemas(member);
    else if (!SCHEMA_MAPS.has(key)) yield* subschemas(value);
  }
}

/** The keywords Claude's grammar refuses per type (Anthropic's "JSON Schema limitations"). */
const REFUSED_BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  integer: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  string: ['minLength', 'maxLength'],
  array: ['maxItems', 'uniqueItems'],
};

/**
 * Claude's refusal of JSON-Schema constraint keywords in a structured-output schema (Converse
 * `outputConfig.textFormat`, Claude's `output_config.format`), in Bedrock's words, first problem only:
 * "output_config.format.schema: For 'number' type, properties maximum, minimum are not supported" (litellm
 * #29624, 2026-06-03, Converse; also for 'integer'), "For 'array' type, property 'maxItems' is not supported"
 * (vercel/ai #17558, 2026-07-21, live Bedrock Sonnet 4.5), "… property 'uniqueItems' is not supported" and
 * "For 'array' type, 'minItems' values other than 0 or 1 are not supported (got: [2, 5])" (instructor #2530 /
 * #2566, 2026-08). One keyword is "property 'k'", several "properties a, b" in alphabetical order, as quoted.
 */
export function claudeConstraintProblem(schema: unknown): string | undefined {
  const all = [...subschemas(schema)];
  for (const s of all) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]).filter((t): t is string => typeof t === 'string');
    for (const type of types) {
      const refused = (Object.hasOwn(REFUSED_BY_TYPE, type) ? REFUSED_BY_TYPE[type]! : []).filter((key) => s[key] !== undefined).sort();
      if (refused.length === 1) return `output_config.format.schema: For '${type}' type, property '${refused[0]}' is not supported`;
      if (refused.length > 1) return `output_config.format.schema: For '${type}' type, properties ${refused.join(', ')} are not supported`;
      if (type === 'array' && s.minItems !== undefined && s.minItems !== 0 && s.minItems !== 1) {
        const got = all
          .filter((a) => a.minItems !== undefined && a.minItems !== 0 && a.minItems !== 1)
          .map((a) => JSON.stringify(a.minItems));
        return `output_config.format.schema: For 'array' type, 'minItems' values other than 0 or 1 are not supported (got: [${got.join(', ')}])`;
      }
    }
  }
  return undefined;
}

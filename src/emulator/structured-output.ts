// Structured outputs as Bedrock takes them: Bedrock compiles a JSON schema into a grammar and takes an object
// schema only closed. Every AWS example sets `additionalProperties: false`, and users report the refusal of
// one that does not (future-agi, 2026-05: "For 'object' type, 'additionalProperties' must be explicitly set
// to false"). One rule for every place a schema is given: Converse's `outputConfig.textFormat` (converse.ts)
// and the `response_format` of an OpenAI-shaped InvokeModel body (families/openai-chat.ts).
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

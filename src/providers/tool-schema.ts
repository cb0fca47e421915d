/**
 * A tool's input schema as Bedrock takes it (docs/contract.md#request-rules). Two rules of real Bedrock refuse
 * the whole request over one tool, and MCP servers, TypeBox and zod unions write schemas that break them:
 *
 * - Converse takes a tool's `inputSchema.json` only with `type: "object"` at the top, for every model ("The
 *   value at toolConfig.tools.25.toolSpec.inputSchema.json.type must be one of the following: object.",
 *   reported from Bedrock in 2026-09 for a TypeBox union). A tool's input is an object on every family, so a
 *   schema that says no `type` (`{}`, a bare `anyOf`) gets `type: "object"`. A schema that names another type
 *   is sent as written: no reading of it is an object, and Bedrock's refusal names it.
 * - Claude takes no `anyOf`, `oneOf` or `allOf` at the top of a tool's schema ("tools.24.custom.input_schema:
 *   input_schema does not support oneOf, allOf, or anyOf at the top level"), on Anthropic's API and through
 *   Bedrock, Converse and InvokeModel alike. One such MCP tool in Claude Code's tool list fails every turn (many
 *   reports, 2025-03 to 2026-09). For Claude the composition is folded into one object schema: the properties
 *   of every branch (a property two branches describe differently takes both as a nested `anyOf`, or `allOf`),
 *   required what `allOf` requires and what every branch of `anyOf` / `oneOf` requires. The model still sees
 *   every input it may give; "exactly one of" and "at least one of" constraints are left to the tool, which
 *   checks its input against its own schema. Other families take the composition beside `type: "object"`.
 *
 * The result is the same for the same schema on every request, so a cached prefix stays cached.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

const COMPOSITIONS = ['allOf', 'anyOf', 'oneOf'] as const;
type Composition = (typeof COMPOSITIONS)[number];

/**
 * The schema Bedrock takes for a tool of `name` (a copy when changed; the schema itself when not). `foldsTopLevel`:
 * the target is Claude. `note` is told each change.
 */
export function toolInputSchema(schema: Json, foldsTopLevel: boolean, name: string, note: (message: string) => void): Json {
  let out = schema;
  const composed = COMPOSITIONS.filter((key) => Array.isArray(schema[key]));
  if (foldsTopLevel && composed.length > 0) {
    out = folded(schema, schema);
    note(`tool "${name}": top-level ${composed.join(', ')} folded into one object schema (Claude takes none at the top level)`);
  }
  if (out.type === undefined) {
    out = { type: 'object', ...out };
    note(`tool "${name}": its schema names no type; sent as "object"`);
  }
  return out;
}

/** `schema` with its top-level compositions folded into its own properties and required (refs resolved from `root`). */
function folded(schema: Json, root: Json): Json {
  const rest: Json = {};
  for (const [key, value] of Object.entries(schema)) if (!(COMPOSITIONS as readonly string[]).includes(key)) rest[key] = value;
  const properties = new Map<string, { schemas: unknown[]; joined: Composition }>();
  const add = (props: unknown, joined: Composition): void => {
    if (!isObject(props)) return;
    for (const [key, value] of Object.entries(props)) {
      const seen = properties.get(key);
      if (!seen) properties.set(key, { schemas: [value], joined });
      else if (!seen.schemas.some((s) => JSON.stringify(s) === JSON.stringify(value))) seen.schemas.push(value);
    }
  };
  add(rest.properties, 'allOf');
  const required = new Set(strings(rest.required));
  for (const key of COMPOSITIONS) {
    const list = schema[key];
    if (!Array.isArray(list)) continue;
    const branches = list.map((branch: unknown) => branchOf(branch, root));
    for (const branch of branches) add(branch.properties, key);
    if (key === 'allOf') for (const branch of branches) for (const r of strings(branch.required)) required.add(r);
    else for (const r of common(branches.map((branch) => strings(branch.required)))) required.add(r);
  }
  const out: Json = { ...rest, type: 'object' };
  if (properties.size > 0)
    out.properties = Object.fromEntries(
      [...properties].map(([key, { schemas, joined }]) => [
        key,
        schemas.length === 1 ? schemas[0] : { [joined === 'allOf' ? 'allOf' : 'anyOf']: schemas },
      ]),
    );
  if (required.size > 0) out.required = [...required];
  return out;
}

/** A branch of a composition as an object schema: a local `$ref` resolved, its own compositions folded. */
function branchOf(branch: unknown, root: Json): Json {
  let schema = isObject(branch) ? branch : {};
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
    const defs = match ? root[match[1]!] : undefined;
    const target = isObject(defs) ? defs[decodeURIComponent(match![2]!).replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    schema = isObject(target) ? target : {};
  }
  return COMPOSITIONS.some((key) => Array.isArray(schema[key])) ? folded(schema, root) : schema;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** The names in every list (none for no list). */
function common(lists: string[][]): string[] {
  if (lists.length === 0) return [];
  return lists[0]!.filter((name) => lists.every((list) => list.includes(name)));
}

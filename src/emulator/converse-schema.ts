// The Converse / ConverseStream request body (docs/bedrock-wire.md#converse-request), as a schema for schema.ts.
// Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
//         https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
//         https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ContentBlock.html
// Unions (ContentBlock, SystemContentBlock, Tool, ToolChoice, sources) take exactly one member key.
// Rarely used, deeply nested shapes (citations, search results, tool additions) are accepted as open objects.
import { any, arr, bool, int, num, obj, opt, req, str, union, type Prop, type Schema } from './schema.ts';

const bytesOrS3 = union({ bytes: str(), s3Location: obj({ uri: req(str()), bucketOwner: opt(str()) }) });
const image = obj({ format: req(str(['png', 'jpeg', 'gif', 'webp'])), source: req(bytesOrS3) });
const documentSource = union({
  bytes: str(),
  s3Location: obj({ uri: req(str()), bucketOwner: opt(str()) }),
  text: str(),
  content: arr(union({ text: str() })),
});
const document = obj({
  format: opt(str(['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'])),
  name: req(str()),
  source: req(documentSource),
  context: opt(str()),
  citations: opt(obj({ enabled: req(bool) })),
});
const video = obj({ format: req(str()), source: req(bytesOrS3) });
const audio = obj({ format: req(str()), source: req(bytesOrS3) });
const cachePoint = obj({ type: req(str(['default'])), ttl: opt(str(['5m', '1h'])) });
const guardContent = union({
  text: obj({ text: req(str()), qualifiers: opt(arr(str(['grounding_source', 'query', 'guard_content']))) }),
  image: obj({ format: req(str(['png', 'jpeg'])), source: req(union({ bytes: str() })) }),
});
const toolUse = obj({ toolUseId: req(str()), name: req(str()), input: req(any), type: opt(str()) });
const toolResultContent = union({
  json: any,
  text: str(),
  image,
  document,
  video,
  searchResult: obj({}, true),
});
const toolResult = obj({
  toolUseId: req(str()),
  content: req(arr(toolResultContent)),
  status: opt(str(['success', 'error'])),
  type: opt(str()),
});
const reasoningContent = union({
  reasoningText: obj({ text: req(str()), signature: opt(str()) }),
  redactedContent: str(),
});

export const contentBlock: Schema = union({
  text: str(),
  image,
  document,
  video,
  audio,
  toolUse,
  toolResult,
  guardContent,
  cachePoint,
  reasoningContent,
  citationsContent: obj({}, true),
  searchResult: obj({}, true),
  toolAddition: obj({}, true),
  toolRemoval: obj({}, true),
});

const message = obj({ role: req(str(['user', 'assistant'])), content: req(arr(contentBlock)) });
const systemBlock = union({ text: str(), guardContent, cachePoint });

// A blank description is refused (min length 1): vercel/ai #10260 (2025-11), bedrock-access-gateway #213
// (2025-12), opencode #48582 (2026-09, Sonnet 5): "Value '' at 'toolConfig.tools.15.member.toolSpec.description'
// failed to satisfy constraint: Member must have length greater than or equal to 1".
const toolSpec = obj({
  name: req(str()),
  description: opt(str(undefined, 1)),
  inputSchema: req(union({ json: any })),
  strict: opt(bool),
});
const tool = union({ toolSpec, systemTool: obj({ name: req(str()) }), cachePoint });
const toolChoice = union({ auto: obj({}), any: obj({}), tool: obj({ name: req(str()) }) });

function guardrailConfig(stream: boolean): Prop {
  const props: Record<string, Prop> = {
    guardrailIdentifier: req(str()),
    guardrailVersion: req(str()),
    trace: opt(str(['enabled', 'disabled', 'enabled_full'])),
  };
  if (stream) props.streamProcessingMode = opt(str(['sync', 'async']));
  return opt(obj(props));
}

export function converseSchema(stream: boolean): Schema {
  return obj({
    messages: opt(arr(message)),
    system: opt(arr(systemBlock)),
    inferenceConfig: opt(
      obj({ maxTokens: opt(int(1)), temperature: opt(num(0, 1)), topP: opt(num(0, 1)), stopSequences: opt(arr(str(), 0, 2500)) }),
    ),
    toolConfig: opt(obj({ tools: req(arr(tool, 1)), toolChoice: opt(toolChoice) })),
    guardrailConfig: guardrailConfig(stream),
    additionalModelRequestFields: opt(obj({}, true)),
    additionalModelResponseFieldPaths: opt(arr(str(), 0, 10)),
    promptVariables: opt(obj({}, true)),
    requestMetadata: opt(obj({}, true)),
    performanceConfig: opt(obj({ latency: opt(str(['standard', 'optimized'])) })),
    serviceTier: opt(obj({ type: req(str(['priority', 'default', 'flex', 'reserved'])) })),
    // The SDK (3.1178.0, 2026-11-25) gives it no length or pattern; which ids exist on bedrock-runtime is not
    // checked here (README: "Projects").
    projectIdentifier: opt(str()),
    outputConfig: opt(obj({ textFormat: opt(obj({}, true)), effort: opt(str()) })),
  });
}

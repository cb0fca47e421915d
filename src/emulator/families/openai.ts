// OpenAI gpt-oss (`openai.gpt-oss-20b-1:0`, `openai.gpt-oss-120b-1:0`) on the invoke route: the OpenAI
// Chat Completions body; reasoning inline as `<reasoning>…</reasoning>` before the answer.
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-openai.html
//         docs/bedrock-wire.md#openai-gpt-oss
// Validation: the emulator uses Bedrock's JSON-schema dialect (no capture exists), plus the documented
// `model`/`stream` consistency rules. Stream chunks are `chat.completion.chunk` objects ([unverified]).
import { openAiChatFamily } from './openai-chat.ts';

export const openai = openAiChatFamily({ name: 'openai', reasoning: 'tag' });

// Qwen3 (`qwen.qwen3-*`) on the invoke route. No AWS model-parameters page was found (docs/bedrock-wire.md#qwen);
// third-party code treats the body as OpenAI Chat Completions, which is what the emulator accepts.
// Reasoning travels in `reasoning_content` (the convention of OpenAI-compatible Qwen servers) — [unverified].
import { openAiChatFamily } from './openai-chat.ts';

// Converse's additionalModelRequestFields also take `reasoning_config` (a real Converse call with
// `{"reasoning_config": "high"}` answered 200: test/fixtures/real-traffic/cv-qwen3-32b-reasoning).
export const qwen = { ...openAiChatFamily({ name: 'qwen', reasoning: 'field' }), converseExtraKeys: ['reasoning_config'] };

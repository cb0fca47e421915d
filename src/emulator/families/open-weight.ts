// The open-weight families Bedrock added in 2025-12 → 2026 that speak the OpenAI Chat Completions body on the
// invoke route: Moonshot Kimi K2 Thinking, MiniMax M2, Google Gemma 3 / 4, NVIDIA Nemotron 3. (Qwen3-Next
// and Qwen3-VL are the `qwen` family; DeepSeek V3.x the `deepseek` one.)
// Source: AWS model cards (via bedrock-2026 §4c): Kimi K2 takes string content, `max_tokens`, `temperature`
//         0–1, `tools`, and no `stop` nor `tool_choice: "required"`; its reasoning opens the answer in
//         `<reasoning>` tags. The others: the shared OpenAI chat shape, reasoning in `reasoning_content` [unverified].
import { extraneousKey } from './common.ts';
import { openAiChatFamily } from './openai-chat.ts';
import { isJson, type InvokeFamily } from './types.ts';

function kimi(): InvokeFamily {
  const base = openAiChatFamily({ name: 'moonshot', reasoning: 'tag' });
  return {
    ...base,
    validate(body, ctx) {
      const shape = base.validate(body, ctx);
      if (shape || !isJson(body)) return shape;
      if ('stop' in body) return extraneousKey('stop');
      if (typeof body.temperature === 'number' && body.temperature > 1)
        return '#/temperature: 1.5 is not less or equal to 1'.replace('1.5', String(body.temperature));
      if (body.tool_choice === 'required' || isJson(body.tool_choice)) return '#/tool_choice: only "auto" and "none" are supported';
      return undefined;
    },
  };
}

// On Converse Kimi K3 takes `reasoning: {effort}` in additionalModelRequestFields (stdapi-ai/stdapi.ai's probe of
// us.moonshotai.kimi-k3, 2026-09-22: none … max; another shape gets Bedrock's list of levels).
export const moonshot = { ...kimi(), converseExtraKeys: ['reasoning'] };
export const minimax = openAiChatFamily({ name: 'minimax', reasoning: 'field' });
export const gemma = openAiChatFamily({ name: 'gemma', reasoning: 'field' });
export const nemotron = openAiChatFamily({ name: 'nemotron', reasoning: 'field' });
// xAI Grok 4.6 / 4.7: its InvokeModel body and answer are OpenAI's chat completions shape (promptfoo #10589,
// verified live 2026-08-31 in us-west-2); reasoning comes back in `reasoning_content` [unverified].
export const xai = openAiChatFamily({ name: 'xai', reasoning: 'field' });
// Z.AI GLM 4.7 / 5: no AWS page documents an InvokeModel body; Bedrock's other open-weight models take OpenAI's
// chat completions shape there, so GLM is read the same way [unverified].
// On Converse its reasoning is switched on by `reasoning_config` (LibreChat #11974, opencode #28143), as Qwen's.
export const zai = { ...openAiChatFamily({ name: 'zai', reasoning: 'field' }), converseExtraKeys: ['reasoning_config'] };

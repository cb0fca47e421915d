/**
 * Chat templates for the prompt-only families: OpenAI messages → the one `prompt` string the model was
 * trained on. Input: the normalised messages of request.ts (images already refused or taken out by the
 * caller). Output: the prompt, ending where the assistant's next turn starts. Pure functions, no I/O.
 *
 * - Llama 3.x: `<|begin_of_text|><|start_header_id|>ROLE<|end_header_id|>\n\nTEXT<|eot_id|>…`
 * - Llama 4:   `<|begin_of_text|><|header_start|>ROLE<|header_end|>\n\nTEXT<|eot|>…`
 * - Llama 2:   `<s>[INST] <<SYS>>\nSYSTEM\n<</SYS>>\n\nUSER [/INST] ASSISTANT </s>…`
 * - Mistral:   `<s>[INST] USER [/INST] ASSISTANT</s> [INST] USER [/INST]` (system text leads the first user turn)
 * - DeepSeek R1: `<｜begin▁of▁sentence｜>SYSTEM<｜User｜>USER<｜Assistant｜>ASSISTANT<｜end▁of▁sentence｜>…<｜Assistant｜><think>\n`
 * - Titan Text: `SYSTEM\n\nUser: USER\nBot: ASSISTANT\nUser: USER\nBot:`
 *
 * Tool calls in the history become their JSON text, and tool results a turn of their own (Llama's
 * `ipython` role) or a user turn that says whose result it is: these models have no native tool channel,
 * so the conversation is kept readable rather than dropped.
 */
import { joinText, type ChatMessage } from './request.ts';
import { parseJsonText } from './json-text.ts';

export interface Turn {
  role: 'user' | 'assistant' | 'tool';
  text: string;
}

/** System text (all system messages, in order) and the remaining turns, adjacent same-role turns merged. */
export function toTurns(messages: readonly ChatMessage[]): { system: string; turns: Turn[] } {
  const system: string[] = [];
  const turns: Turn[] = [];
  const push = (role: Turn['role'], text: string): void => {
    const last = turns[turns.length - 1];
    if (last && last.role === role && role !== 'tool') last.text += `\n\n${text}`;
    else turns.push({ role, text });
  };
  for (const m of messages) {
    switch (m.role) {
      case 'system': {
        const text = joinText(m.content);
        if (text !== '') system.push(text);
        break;
      }
      case 'user':
        push('user', joinText(m.content));
        break;
      case 'assistant': {
        const calls = m.toolCalls.map((c) => JSON.stringify({ name: c.name, arguments: safeJson(c.arguments) }));
        push('assistant', [joinText(m.content), ...calls].filter((t) => t !== '').join('\n'));
        break;
      }
      case 'tool':
        push('tool', joinText(m.content));
        break;
    }
  }
  return { system: system.join('\n\n'), turns };
}

/** The arguments as JSON where they are (and nest no deeper than a body may: json-text.ts), else as written. */
function safeJson(text: string): unknown {
  const parsed = parseJsonText(text);
  return parsed.ok ? parsed.value : text;
}

/** A tool result rendered as user text, for templates without a tool role. */
function toolAsUser(text: string): string {
  return `Tool result:\n${text}`;
}

export function llama3Prompt(messages: readonly ChatMessage[]): string {
  const { system, turns } = toTurns(messages);
  let out = '<|begin_of_text|>';
  const turn = (role: string, text: string): string => `<|start_header_id|>${role}<|end_header_id|>\n\n${text}<|eot_id|>`;
  if (system !== '') out += turn('system', system);
  for (const t of turns) out += turn(t.role === 'tool' ? 'ipython' : t.role, t.text);
  return `${out}<|start_header_id|>assistant<|end_header_id|>\n\n`;
}

export function llama4Prompt(messages: readonly ChatMessage[]): string {
  const { system, turns } = toTurns(messages);
  let out = '<|begin_of_text|>';
  const turn = (role: string, text: string): string => `<|header_start|>${role}<|header_end|>\n\n${text}<|eot|>`;
  if (system !== '') out += turn('system', system);
  for (const t of turns) out += turn(t.role === 'tool' ? 'ipython' : t.role, t.text);
  return `${out}<|header_start|>assistant<|header_end|>\n\n`;
}

/** `[INST]` pairs: each user turn (tool results as user text) then the assistant's answer, if any. */
function instPairs(turns: readonly Turn[], firstUserPrefix: string): Array<{ user: string; assistant: string | undefined }> {
  const pairs: Array<{ user: string; assistant: string | undefined }> = [];
  for (const t of turns) {
    const last = pairs[pairs.length - 1];
    if (t.role === 'assistant') {
      if (last && last.assistant === undefined) last.assistant = t.text;
      else pairs.push({ user: '', assistant: t.text });
    } else {
      const text = t.role === 'tool' ? toolAsUser(t.text) : t.text;
      if (last && last.assistant === undefined) last.user += `\n\n${text}`;
      else pairs.push({ user: text, assistant: undefined });
    }
  }
  if (pairs.length === 0) pairs.push({ user: '', assistant: undefined });
  if (firstUserPrefix !== '') pairs[0]!.user = pairs[0]!.user === '' ? firstUserPrefix : `${firstUserPrefix}\n\n${pairs[0]!.user}`;
  return pairs;
}

export function mistralPrompt(messages: readonly ChatMessage[]): string {
  const { system, turns } = toTurns(messages);
  const pairs = instPairs(turns, system);
  let out = '<s>';
  pairs.forEach((p, i) => {
    out += `${i === 0 ? '' : ' '}[INST] ${p.user} [/INST]`;
    if (p.assistant !== undefined) out += ` ${p.assistant}</s>`;
  });
  return out;
}

export function llama2Prompt(messages: readonly ChatMessage[]): string {
  const { system, turns } = toTurns(messages);
  const pairs = instPairs(turns, '');
  if (system !== '') pairs[0]!.user = `<<SYS>>\n${system}\n<</SYS>>\n\n${pairs[0]!.user}`;
  let out = '';
  for (const p of pairs) {
    out += `<s>[INST] ${p.user} [/INST]`;
    if (p.assistant !== undefined) out += ` ${p.assistant} </s>`;
  }
  return out;
}

export const DEEPSEEK_BOS = '<｜begin▁of▁sentence｜>';
export const DEEPSEEK_EOS = '<｜end▁of▁sentence｜>';

/** DeepSeek R1's template; `think` opens the reasoning block, as DeepSeek recommends for R1. */
export function deepseekPrompt(messages: readonly ChatMessage[], think: boolean): string {
  const { system, turns } = toTurns(messages);
  let out = DEEPSEEK_BOS + system;
  for (const t of turns) {
    if (t.role === 'assistant') out += `<｜Assistant｜>${t.text}${DEEPSEEK_EOS}`;
    else out += `<｜User｜>${t.role === 'tool' ? toolAsUser(t.text) : t.text}`;
  }
  return `${out}<｜Assistant｜>${think ? '<think>\n' : ''}`;
}

export function titanPrompt(messages: readonly ChatMessage[]): string {
  const { system, turns } = toTurns(messages);
  const lines: string[] = [];
  for (const t of turns) {
    if (t.role === 'assistant') lines.push(`Bot: ${t.text}`);
    else lines.push(`User: ${t.role === 'tool' ? toolAsUser(t.text) : t.text}`);
  }
  lines.push('Bot:');
  return (system !== '' ? `${system}\n\n` : '') + lines.join('\n');
}

/**
 * A failed tool's result with a screenshot, in Claude's Messages body (what Claude Code sends when a tool
 * fails part-way): the tools and messages of a three-turn conversation, and the Converse `toolResult` a
 * target that reads images and status (Claude, Nova) must be sent for it.
 */

/** A PNG header, base64: enough for Bedrock's (and the emulator's) image checks. */
export const PNG_BASE64 = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').toString('base64');

/** `tools` and `messages` of Claude's body: a screenshot asked for, called, and failed with text and an image. */
export function failedScreenshot(): { tools: unknown[]; messages: unknown[] } {
  return {
    tools: [{ name: 'screenshot', input_schema: { type: 'object', properties: {} } }],
    messages: [
      { role: 'user', content: 'take a screenshot' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'screenshot', input: {} }] },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_1',
            is_error: true,
            content: [
              { type: 'text', text: 'partial capture' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
            ],
          },
        ],
      },
    ],
  };
}

/** The Converse `toolResult` block of `failedScreenshot()` for a target that reads images and status. */
export const FAILED_SCREENSHOT_RESULT = {
  toolResult: {
    toolUseId: 'toolu_1',
    content: [{ text: 'partial capture' }, { image: { format: 'png', source: { bytes: PNG_BASE64 } } }],
    status: 'error',
  },
};

/** A Chat user message asking about an image (`PNG_BASE64` as a data URL), for the tests of which models read one. */
export function lookAtPng(): {
  role: 'user';
  content: Array<{ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } }>;
} {
  return {
    role: 'user',
    content: [
      { type: 'text', text: 'What colour is this?' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
    ],
  };
}

// Public entry point of the Bedrock emulator: `startEmulator(options)` and the scripting types.
// The emulator is an independent reading of Bedrock's documentation; it imports nothing from the
// sidecar's own code (src/ outside src/emulator/), and the sidecar imports nothing from it.
export { startEmulator, DEFAULT_CREDENTIALS, type Emulator } from './server.ts';
export { defaultReplyText } from './script.ts';
export type {
  DelayReply,
  DoneInfo,
  EmulatorCredential,
  EmulatorOptions,
  EndpointBehavior,
  ErrorReply,
  ExceptionType,
  Fault,
  GuardrailRules,
  Operation,
  RawReply,
  RecordedRequest,
  ScriptedGuardrailReply,
  ScriptedReply,
  ScriptedToolCall,
  ScriptedUsage,
  StopReason,
  StreamPause,
  TextReply,
  ToolUseReply,
} from './types.ts';

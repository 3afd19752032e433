/**
 * Control characters in user-given names. A name with an escape sequence or a bidirectional override,
 * printed raw by `alphanet datasets list`, could rewrite the user's terminal or disguise itself. Names are refused at
 * every entry (API schemas, run configs, imports), and the CLI escapes any that older data still holds. A leaf
 * module (no imports), so every layer may use it.
 */

/** C0/C1 controls and DEL (`\p{Cc}`), plus the bidirectional embedding, override and isolate characters. */
const UNSAFE_RE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
const UNSAFE_GLOBAL_RE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

/** True when `s` holds a control character (tab and newline included: a name is one line). */
export const hasControlChars = (s: string): boolean => UNSAFE_RE.test(s);

/** The refusal, as zod refinements and the importer say it. */
export const CONTROL_CHARS_MESSAGE = 'must not contain control characters (escape sequences, tabs, newlines, bidirectional overrides)';

/** `s` with every control character but newline and tab written as a visible `\uXXXX` escape (terminal output). */
export function escapeControlChars(s: string): string {
  return s.replace(UNSAFE_GLOBAL_RE, (c) => (c === '\n' || c === '\t' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** `s` with each control character replaced by `-` (a name derived from a file or folder name). */
export const replaceControlChars = (s: string): string => s.replace(UNSAFE_GLOBAL_RE, '-');

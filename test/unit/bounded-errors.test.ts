import { expect, it } from 'vitest';
import { boundedMessage } from '../../src/plugins/response/use-bounded-error-messages.ts';
import { LIMITS } from '../../src/limits.ts';

it('shortens a long quoted name and keeps the rest of the message', () => {
  const name = 'x'.repeat(10_000);
  const message = boundedMessage(`Cannot query field "${name}" on type "Device".`);
  expect(message).toBe(`Cannot query field "${'x'.repeat(LIMITS.quotedLength.value)}…" on type "Device".`);
});

it('cuts a long message without quotes at LIMITS.messageLength.value', () => {
  const message = boundedMessage(`Unterminated string in JSON at position 131008, "{"query":"${'y'.repeat(130_000)}`);
  expect(message).toHaveLength(LIMITS.messageLength.value + 1);
  expect(message.endsWith('…')).toBe(true);
});

it('leaves ordinary messages alone', () => {
  const message = 'Cannot query field "modelNam" on type "Device". Did you mean "modelName" or "modelCode"?';
  expect(boundedMessage(message)).toBe(message);
});

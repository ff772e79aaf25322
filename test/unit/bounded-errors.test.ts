import { expect, it } from 'vitest';
import { boundedMessage, MAX_MESSAGE_LENGTH, MAX_QUOTED_LENGTH } from '../../src/plugins/bounded-errors.ts';

it('shortens a long quoted name and keeps the rest of the message', () => {
  const name = 'x'.repeat(10_000);
  const message = boundedMessage(`Cannot query field "${name}" on type "Device".`);
  expect(message).toBe(`Cannot query field "${'x'.repeat(MAX_QUOTED_LENGTH)}…" on type "Device".`);
});

it('cuts a long message without quotes at MAX_MESSAGE_LENGTH', () => {
  const message = boundedMessage(`Unterminated string in JSON at position 131008, "{"query":"${'y'.repeat(130_000)}`);
  expect(message).toHaveLength(MAX_MESSAGE_LENGTH + 1);
  expect(message.endsWith('…')).toBe(true);
});

it('leaves ordinary messages alone', () => {
  const message = 'Cannot query field "modelNam" on type "Device". Did you mean "modelName" or "modelCode"?';
  expect(boundedMessage(message)).toBe(message);
});

import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { createFastLane, listPlugins } from '../../src/http/fast-lane.ts';

const schema = createSchema({ typeDefs: 'type Query { ok: Boolean }' });
const options = { endpoint: '/graphql', maxBodyBytes: 16 * 1024 };

describe('the fast lane', () => {
  it('stands aside (every request to Yoga), with a warning, when a plugin instruments Yoga’s handler, whose phases it does not run', () => {
    const warnings: string[] = [];
    const list = listPlugins();
    const instrumented = createYoga({
      schema,
      plugins: [list.first, { instrumentation: { operation: (_payload: unknown, wrapped: () => void) => wrapped() } }, list.last],
    });
    expect(
      createFastLane(instrumented as never, { ...options, plugins: list, onStandAside: (reason) => warnings.push(reason) }),
    ).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/fast lane is off: a plugin uses Yoga's instrumentation/)]);
  });

  it('stands aside, with a warning, when a plugin (even one added by another) acts on onRequestParse, which it does not run', () => {
    const warnings: string[] = [];
    const list = listPlugins();
    const csrf: Plugin = { onRequestParse: () => undefined };
    const adding: Plugin = { onPluginInit: ({ addPlugin }) => addPlugin(csrf) };
    const yoga = createYoga({ schema, plugins: [list.first, adding, list.last] });
    expect(createFastLane(yoga as never, { ...options, plugins: list, onStandAside: (reason) => warnings.push(reason) })).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/fast lane is off: a plugin uses Yoga's onRequestParse/)]);
    // Unless the app says the lane may skip that plugin's hook.
    const lane = createFastLane(yoga as never, { ...options, plugins: list, skippableRequestParse: new Set([csrf]) });
    expect(lane).toBeTypeOf('function');
  });

  it('takes requests when no plugin asks for what it does not run', () => {
    const list = listPlugins();
    const plain = createYoga({ schema, plugins: [list.first, list.last] });
    expect(list.plugins.length).toBeGreaterThan(5); // Yoga's own plugins too, its request parsers among them
    expect(list.own).toEqual([]);
    expect(createFastLane(plain as never, { ...options, plugins: list })).toBeTypeOf('function');
  });
});

import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { validate } from '@graphql-inspector/core';
import { buildSchema, parse, Source, validate as validateDocument } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printClientSchema } from '../src/schema/index.ts';
import { root } from './support/process.ts';

const CLIENT_SCHEMA = join(root, 'schema.client.graphql');

describe('schema.client.graphql, the schema apps generate code from', () => {
  it('is what the code builds (run `npm run codegen` after changing the schema)', async () => {
    expect((await readFile(CLIENT_SCHEMA, 'utf8')).trim()).toBe(printClientSchema().trim());
  });

  it('has no federation: no @link, no _entities/_service/_Any/_Entity, no federation directive', async () => {
    const sdl = await readFile(CLIENT_SCHEMA, 'utf8');
    expect(sdl).not.toMatch(/@link|@key|@authenticated|@requiresScopes|@cost|@listSize|\b_entities\b|\b_service\b|\b_Any\b|\b_Entity\b/);
    const schema = buildSchema(sdl);
    expect(Object.keys(schema.getQueryType()!.getFields())).toEqual(['device', 'deviceList', 'devices', 'myDevices']);
    expect(schema.getDirectives().map((directive) => directive.name)).toEqual(['include', 'skip', 'deprecated', 'specifiedBy', 'oneOf']);
  });

  it('validates every operation in examples/operations (graphql-inspector)', async () => {
    const schema = buildSchema(await readFile(CLIENT_SCHEMA, 'utf8'));
    const dir = join(root, 'examples/operations');
    const files = (await readdir(dir)).filter((name) => name.endsWith('.graphql'));
    expect(files.length).toBeGreaterThan(5);
    const sources = await Promise.all(files.map(async (name) => new Source(await readFile(join(dir, name), 'utf8'), name)));
    const invalid = validate(schema, sources, { strictFragments: true, strictDeprecated: true });
    expect(invalid.map((document) => ({ name: document.source.name, errors: document.errors.map((error) => error.message) }))).toEqual([]);
  });

  it('graphql-inspector reports an operation the schema cannot answer (so the test above can fail)', () => {
    const schema = buildSchema(printClientSchema());
    const invalid = validate(schema, [new Source('{ device(id: "dev_1") { colour } }', 'bad.graphql')]);
    expect(invalid[0]?.errors.map((error) => error.message)).toEqual(['Cannot query field "colour" on type "Device".']);
  });
});

describe('relay-compiler over a small Relay app (test/fixtures/relay)', () => {
  let dir: string;
  const run = promisify(execFile);
  const compile = () =>
    run(process.execPath, [join(root, 'node_modules/relay-compiler/cli.js'), join(dir, 'relay.config.json')], { cwd: dir });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relay-app-'));
    await cp(join(root, 'test/fixtures/relay/src'), join(dir, 'src'), { recursive: true });
    await mkdir(join(dir, 'src/__generated__'));
    await writeFile(
      join(dir, 'relay.config.json'),
      JSON.stringify({ src: './src', schema: CLIENT_SCHEMA, language: 'typescript', artifactDirectory: './src/__generated__' }),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('compiles a @connection on myDevices, a refetchable pagination fragment, a Device fragment and updateDevice', async () => {
    await compile();
    const generated = (await readdir(join(dir, 'src/__generated__'))).sort();
    expect(generated).toEqual([
      'DeviceCard_device.graphql.ts',
      'MyDevicesPagePaginationQuery.graphql.ts',
      'MyDevicesPageQuery.graphql.ts',
      'MyDevicesPage_query.graphql.ts',
      'RenameDeviceMutation.graphql.ts',
    ]);
    const page = await readFile(join(dir, 'src/__generated__/MyDevicesPage_query.graphql.ts'), 'utf8');
    expect(page).toContain('"connection"');
    expect(page).toContain('MyDevicesPage_myDevices');
    // The documents Relay wrote (the pagination query with the cursor and pageInfo it
    // added, the mutation) are valid against the schema.
    const schema = buildSchema(await readFile(CLIENT_SCHEMA, 'utf8'));
    for (const name of ['MyDevicesPagePaginationQuery', 'MyDevicesPageQuery', 'RenameDeviceMutation']) {
      const artifact = await readFile(join(dir, `src/__generated__/${name}.graphql.ts`), 'utf8');
      const text = JSON.parse(/"text": ("(?:[^"\\]|\\.)*")/.exec(artifact)![1]!) as string;
      expect(text).toContain(name);
      expect(validateDocument(schema, parse(text)).map((error) => error.message)).toEqual([]);
      if (name === 'MyDevicesPagePaginationQuery')
        expect(text).toMatch(/myDevices\(first: \$first, after: \$after\)[^]*cursor[^]*endCursor/);
    }
  });

  it('refuses a fragment on a field the schema does not have (so the test above can fail)', async () => {
    await writeFile(
      join(dir, 'src/Broken.ts'),
      'const graphql = String.raw;\nexport const f = graphql`fragment Broken_device on Device { colour }`;\n',
    );
    await expect(compile()).rejects.toThrow(/colour/);
    await rm(join(dir, 'src/Broken.ts'));
  });
});

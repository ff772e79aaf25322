/** A Dockerfile read as its stages and instructions, for tests that check and replay it without Docker. */
export interface Instruction {
  /** Upper-case: FROM, RUN, COPY… */
  readonly op: string;
  /** `--name=value` options (COPY --from, HEALTHCHECK --interval). */
  readonly flags: Readonly<Record<string, string>>;
  /** The rest of the line, options removed, continuations joined. */
  readonly args: string;
}

export interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) && pending === '') continue; // comment (and parser directive)
    if (/^\s*#/.test(line)) continue; // a comment inside a continued instruction
    if (line.trimEnd().endsWith('\\')) {
      pending += `${line.trimEnd().slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole !== '') logical.push(whole);
  }

  const stages: Array<{ image: string; name: string | undefined; instructions: Instruction[] }> = [];
  for (const line of logical) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const flags: Record<string, string> = {};
    let args = rest;
    for (let flag = /^--([\w-]+)=(\S+)\s*/.exec(args); flag; flag = /^--([\w-]+)=(\S+)\s*/.exec(args)) {
      flags[flag[1]!] = flag[2]!;
      args = args.slice(flag[0].length);
    }
    const instruction: Instruction = { op: op.toUpperCase(), flags, args };
    if (instruction.op === 'FROM') {
      const [image = '', as, name] = args.split(/\s+/);
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${instruction.op} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

/** The instructions of `stage` with operation `op`. */
export const instructionsOf = (stage: Stage, op: string): Instruction[] =>
  stage.instructions.filter((instruction) => instruction.op === op);

/** `CMD ["node", "dist/main.js"]` → ['node', 'dist/main.js'] (exec form only). */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw new Error(`not an exec-form array: ${args}`);
  return parsed;
}

/** `ENV A=1 B=2` → { A: '1', B: '2' } (unquoted values only, which is all this Dockerfile uses). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of instructionsOf(stage, 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const equals = pair.indexOf('=');
      if (equals <= 0) throw new Error(`ENV not in KEY=value form: ${args}`);
      env[pair.slice(0, equals)] = pair.slice(equals + 1);
    }
  }
  return env;
}

/** `COPY a b ./dest` → { sources: ['a', 'b'], destination: './dest' } (shell form). */
export function copyPaths({ args }: Instruction): { sources: string[]; destination: string } {
  const parts = args.split(/\s+/);
  return { sources: parts.slice(0, -1), destination: parts.at(-1)! };
}

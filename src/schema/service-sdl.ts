import { GraphQLObjectType, GraphQLSchema, Kind, parse, print, visit, type ASTNode } from 'graphql';

/** The federation directives that only a router enforces ("for: SECURITY" in a supergraph). */
const SECURITY_DIRECTIVES = ['authenticated', 'requiresScopes'];

/**
 * The subgraph SDL without `@authenticated`/`@requiresScopes` (uses and `@link` imports).
 * Apollo Gateway (JS) refuses any supergraph with `for: SECURITY` features; composing this
 * SDL instead lets it serve the subgraph. The rules are not lost: every resolver behind
 * them checks the caller itself (src/callers/access.ts), whatever the router enforces.
 */
export function withoutSecurityDirectives(sdl: string): string {
  const imports = new Set(SECURITY_DIRECTIVES.map((name) => `@${name}`));
  const isSecurityUse = (node: ASTNode): boolean => node.kind === Kind.DIRECTIVE && SECURITY_DIRECTIVES.includes(node.name.value);
  const document = visit(parse(sdl), {
    enter: (node) => (isSecurityUse(node) ? null : undefined),
    // The @link's import list names them too: a directive imported but never used would
    // still bring its for: SECURITY definition into the supergraph.
    ListValue: (node, _key, parent) =>
      (parent as ASTNode | undefined)?.kind === Kind.ARGUMENT && (parent as { name: { value: string } }).name.value === 'import'
        ? { ...node, values: node.values.filter((value) => !(value.kind === Kind.STRING && imports.has(value.value))) }
        : undefined,
  });
  return `${print(document)}\n`;
}

/**
 * The same executable schema whose `_service { sdl }` answers `sdl`: a copy with its own
 * Query type, the other types shared, so every resolver and every rule is the original's.
 */
export function servingSdl(schema: GraphQLSchema, sdl: string): GraphQLSchema {
  const config = schema.toConfig();
  const query = schema.getQueryType()!;
  const queryConfig = query.toConfig();
  const service = queryConfig.fields._service;
  if (!service) throw new Error('servingSdl: the schema has no _service field');
  const newQuery = new GraphQLObjectType({
    ...queryConfig,
    fields: { ...queryConfig.fields, _service: { ...service, resolve: () => ({ sdl }) } },
  });
  return new GraphQLSchema({
    ...config,
    query: newQuery,
    types: config.types.map((type) => (type === query ? newQuery : type)),
  });
}

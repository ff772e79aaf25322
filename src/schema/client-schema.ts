import { GraphQLObjectType, GraphQLSchema, printSchema, specifiedDirectives } from 'graphql';

/**
 * The API schema apps generate code from (schema.client.graphql): the subgraph's types and
 * fields without what only a router uses (`_entities`, `_service`, `_Any`, `_Entity`,
 * `_Service`) and without the federation directives and `@link`, which client tools
 * (relay-compiler, graphql-inspector, Apollo's codegen) do not know.
 */
export function clientSchema(schema: GraphQLSchema): GraphQLSchema {
  const config = schema.toConfig();
  const query = schema.getQueryType()!;
  const queryConfig = query.toConfig();
  const isFederation = (name: string) => name.startsWith('_');
  const clientQuery = new GraphQLObjectType({
    ...queryConfig,
    fields: Object.fromEntries(Object.entries(queryConfig.fields).filter(([name]) => !isFederation(name))),
  });
  return new GraphQLSchema({
    ...config,
    query: clientQuery,
    types: config.types.filter((type) => !isFederation(type.name)).map((type) => (type === query ? clientQuery : type)),
    directives: specifiedDirectives,
    extensions: {},
    astNode: undefined,
    extensionASTNodes: [],
  });
}

/** schema.client.graphql's text. */
export const printClientSchema = (schema: GraphQLSchema): string => `${printSchema(clientSchema(schema))}\n`;

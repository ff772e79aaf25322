import { type GraphQLSchema, isUnionType } from 'graphql';
import { badUserInput } from '../errors.ts';

/**
 * @apollo/subgraph's `_entities` calls each representation's resolveReference in turn and
 * throws as soon as one names a type this subgraph does not have. The promises it already
 * made for the representations before are then dropped, and one of them rejecting (an id
 * that is not a string, a device that does not exist) is an unhandled rejection, which
 * ends a Node process. Every representation is checked before any is resolved, so that
 * resolver never throws halfway through its list.
 */
export function checkRepresentationsFirst(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  const union = schema.getType('_Entity');
  if (!field?.resolve || !isUnionType(union)) return schema;
  const entities = new Set(union.getTypes().map((type) => type.name));
  const message = `Each representation must be an object whose __typename is an entity of this subgraph: ${[...entities].join(', ')}`;
  const resolve = field.resolve;
  field.resolve = (source, args: { representations: readonly unknown[] }, context, info) => {
    for (const representation of args.representations) {
      const typename =
        typeof representation === 'object' && representation !== null ? (representation as { __typename?: unknown }).__typename : undefined;
      if (typeof typename !== 'string' || !entities.has(typename)) throw badUserInput(message);
    }
    return resolve(source, args, context, info);
  };
  return schema;
}
